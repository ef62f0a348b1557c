//! Checks of the `access_log` section.

use super::checker::Checker;
use crate::model::*;
use crate::parse::ConfigPath;
use crate::schema::Section;

pub(super) fn access_log(c: &mut Checker) -> AccessLog {
    let Some(file) = c.doc.access_log.as_ref() else {
        return AccessLog::default();
    };
    let path = ConfigPath::section(Section::AccessLog);
    let defaults = AccessLog::default();
    let fields = file.fields.clone().unwrap_or(defaults.fields);
    if fields.is_empty() {
        c.error(&path.key("fields"), "must name at least one field");
    }
    for (i, field) in fields.iter().enumerate() {
        if fields[..i].contains(field) {
            c.error(
                &path.key("fields").index(i),
                format!("field {:?} is listed twice", field.key()),
            );
        }
    }
    let buffer_lines = file.buffer_lines.unwrap_or(defaults.buffer_lines);
    c.at_least_one(&path.key("buffer_lines"), buffer_lines as u64);
    let file_path = match file.path.as_deref() {
        None | Some("-") => None,
        Some("") => {
            c.error(&path.key("path"), "must not be empty (use `-` for stdout)");
            None
        }
        Some(p) => Some(c.resolve(p)),
    };
    AccessLog {
        enabled: file.enabled.unwrap_or(true),
        format: file.format.unwrap_or(defaults.format),
        path: file_path,
        fields,
        buffer_lines,
    }
}
