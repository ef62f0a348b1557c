//! Checks of the `tracing` section.

use std::time::Duration;

use super::checker::Checker;
use crate::model::*;
use crate::parse::ConfigPath;
use crate::schema::Section;

pub(super) fn tracing(c: &mut Checker) -> Tracing {
    let Some(file) = c.doc.tracing.as_ref() else {
        return Tracing::default();
    };
    let path = ConfigPath::section(Section::Tracing);
    let service_name = file.service_name.clone().unwrap_or_else(|| "weir".into());
    if service_name.is_empty() {
        c.error(&path.key("service_name"), "must not be empty");
    }
    let otlp = file.otlp.as_ref().and_then(|o| {
        let path = path.key("otlp");
        let errors_before = c.errors.len();
        let endpoint = endpoint(&o.endpoint);
        if endpoint.is_none() {
            c.error(
                &path.key("endpoint"),
                format!(
                    "invalid endpoint {:?}; expected http://host:port[/path]",
                    o.endpoint
                ),
            );
        }
        let timeout = o.timeout.map_or(Duration::from_secs(10), |d| d.0);
        c.more_than_zero(&path.key("timeout"), timeout);
        let export_interval = o.export_interval.map_or(Duration::from_secs(5), |d| d.0);
        c.more_than_zero(&path.key("export_interval"), export_interval);
        let sample_ratio = o.sample_ratio.unwrap_or(1.0);
        if !(0.0..=1.0).contains(&sample_ratio) {
            c.error(
                &path.key("sample_ratio"),
                format!("must be between 0 and 1, got {sample_ratio}"),
            );
        }
        let max_queue_size = o.max_queue_size.unwrap_or(2048);
        c.at_least_one(&path.key("max_queue_size"), max_queue_size as u64);
        (c.errors.len() == errors_before).then(|| Otlp {
            endpoint: endpoint.expect("checked above"),
            timeout,
            sample_ratio,
            export_interval,
            max_queue_size,
        })
    });
    Tracing { service_name, otlp }
}

/// The traces URL: plain `http` only (the exporter is built without TLS), with
/// `/v1/traces` when no path was given.
fn endpoint(text: &str) -> Option<String> {
    let rest = text.strip_prefix("http://")?;
    let (authority, path) = rest.split_once('/').unwrap_or((rest, ""));
    let valid_authority = !authority.is_empty()
        && authority
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-.:[]_".contains(&b));
    if !valid_authority || text.contains(['?', '#', ' ']) {
        return None;
    }
    Some(if path.is_empty() {
        format!("http://{authority}/v1/traces")
    } else {
        text.to_owned()
    })
}

#[cfg(test)]
mod tests {
    use super::endpoint;

    #[test]
    fn endpoints() {
        assert_eq!(
            endpoint("http://127.0.0.1:4318").as_deref(),
            Some("http://127.0.0.1:4318/v1/traces")
        );
        assert_eq!(
            endpoint("http://c:4318/").as_deref(),
            Some("http://c:4318/v1/traces")
        );
        assert_eq!(
            endpoint("http://c:4318/otlp/v1/traces").as_deref(),
            Some("http://c:4318/otlp/v1/traces")
        );
        for bad in ["https://c:4318", "c:4318", "", "http://", "http://c/x?y=1"] {
            assert_eq!(endpoint(bad), None, "{bad}");
        }
    }
}
