//! Checking a replacement (`$1`, `${name}`, `$$`) against its regex once, at
//! start-up: the `regex` crate expands an unknown group to empty text, which
//! would turn a typo into a silently wrong path or `Location`.

use regex::Regex;

/// Every group `replacement` names must exist in `regex`.
pub fn check(replacement: &str, regex: &Regex) -> Result<(), String> {
    let mut rest = replacement;
    while let Some(dollar) = rest.find('$') {
        rest = &rest[dollar + 1..];
        if let Some(tail) = rest.strip_prefix('$') {
            rest = tail;
            continue;
        }
        let (group, tail) = if let Some(braced) = rest.strip_prefix('{') {
            let close = braced
                .find('}')
                .ok_or_else(|| format!("unclosed `${{` in {replacement:?}"))?;
            (&braced[..close], &braced[close + 1..])
        } else {
            // The regex crate reads the longest run of [0-9A-Za-z_] as the
            // name, so `$1a` means group "1a": write `${1}a`.
            let end = rest
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .unwrap_or(rest.len());
            (&rest[..end], &rest[end..])
        };
        if group.is_empty() {
            return Err(format!(
                "a lone `$` in {replacement:?}: write `$1` or `${{name}}` for a group, `$$` for a literal `$`"
            ));
        }
        let exists = match group.parse::<usize>() {
            Ok(index) => index < regex.captures_len(),
            Err(_) => regex.capture_names().flatten().any(|name| name == group),
        };
        if !exists {
            return Err(format!(
                "{replacement:?} refers to group `{group}`, which {:?} does not have (write `${{1}}x`, not `$1x`, before a letter or digit)",
                regex.as_str()
            ));
        }
        rest = tail;
    }
    Ok(())
}
