//! Compares what a case expected with what came out, field by field, and
//! renders the differences for a person to read.

use std::fmt::Write;

use http::HeaderMap;

use super::fixture::{Expect, Message};
use super::runner::Observed;

/// One field that differs; `None` reads as "absent".
#[derive(Debug)]
pub struct Mismatch {
    pub field: String,
    pub expected: Option<String>,
    pub actual: Option<String>,
}

pub fn compare(expect: &Expect, seen: &Observed) -> Vec<Mismatch> {
    let mut out = Vec::new();
    let mut check = |field: String, expected: Option<String>, actual: Option<String>| {
        if expected != actual {
            out.push(Mismatch {
                field,
                expected,
                actual,
            });
        }
    };
    if let Some(decision) = expect.decision {
        let actual = match (&seen.failure, seen.decision) {
            (Some(why), d) => format!("{d} ({why})"),
            (None, d) => d.to_string(),
        };
        let expected = decision.to_string();
        if decision != seen.decision {
            check("decision".into(), Some(expected), Some(actual));
        }
    }
    for (key, value) in &expect.context {
        check(
            format!("context[{key}]"),
            Some(value.clone()),
            seen.context.get(key).cloned(),
        );
    }
    for key in &expect.context_absent {
        check(
            format!("context[{key}]"),
            None,
            seen.context.get(key).cloned(),
        );
    }
    if let Some(want) = &expect.upstream_request {
        match &seen.upstream_request {
            None => check(
                "upstream_request".into(),
                Some("a request to the upstream".into()),
                Some(format!("none (decision: {})", seen.decision)),
            ),
            Some(sent) => {
                let prefix = "upstream_request";
                if let Some(method) = &want.method {
                    check(
                        format!("{prefix}.method"),
                        Some(method.clone()),
                        Some(sent.method.clone()),
                    );
                }
                if let Some(path) = &want.path {
                    check(
                        format!("{prefix}.path"),
                        Some(path.clone()),
                        Some(sent.path.clone()),
                    );
                }
                if let Some(query) = &want.query {
                    check(
                        format!("{prefix}.query"),
                        Some(query.clone()),
                        sent.query.clone(),
                    );
                }
                message(prefix, want, &sent.headers, &sent.body, &mut check);
            }
        }
    }
    if let Some(want) = &expect.response {
        let sent = &seen.response;
        response(
            "response",
            want,
            sent.status,
            &sent.headers,
            &sent.body,
            &mut check,
        );
    }
    out
}

/// A handler's response against a case's `expect` (whose fields are named
/// without a prefix: `status`, `headers[...]`, `body`).
pub fn compare_response(
    want: &Message,
    status: u16,
    headers: &HeaderMap,
    body: &[u8],
) -> Vec<Mismatch> {
    let mut out = Vec::new();
    let mut check = |field: String, expected: Option<String>, actual: Option<String>| {
        if expected != actual {
            out.push(Mismatch {
                field,
                expected,
                actual,
            });
        }
    };
    response("", want, status, headers, body, &mut check);
    out
}

fn response(
    prefix: &str,
    want: &Message,
    status: u16,
    headers: &HeaderMap,
    body: &[u8],
    check: &mut impl FnMut(String, Option<String>, Option<String>),
) {
    if let Some(expected) = want.status {
        check(
            field(prefix, "status"),
            Some(expected.to_string()),
            Some(status.to_string()),
        );
    }
    message(prefix, want, headers, body, check);
}

/// `prefix.name`, or `name` alone.
fn field(prefix: &str, name: &str) -> String {
    if prefix.is_empty() {
        name.to_owned()
    } else {
        format!("{prefix}.{name}")
    }
}

/// Headers and body, shared by requests and responses.
fn message(
    prefix: &str,
    want: &Message,
    headers: &HeaderMap,
    body: &[u8],
    check: &mut impl FnMut(String, Option<String>, Option<String>),
) {
    for (name, value) in &want.headers {
        check(
            field(prefix, &format!("headers[{}]", name.to_ascii_lowercase())),
            Some(value.clone()),
            header(headers, name),
        );
    }
    for name in &want.headers_absent {
        check(
            field(prefix, &format!("headers[{}]", name.to_ascii_lowercase())),
            None,
            header(headers, name),
        );
    }
    let text = String::from_utf8_lossy(body);
    if let Some(expected) = &want.body {
        check(
            field(prefix, "body"),
            Some(expected.clone()),
            Some(text.clone().into_owned()),
        );
    }
    if let Some(part) = &want.body_contains
        && !text.contains(part.as_str())
    {
        check(
            field(prefix, "body (contains)"),
            Some(format!("…{part}…")),
            Some(text.into_owned()),
        );
    }
}

/// All values of a header, joined as they would be on one line.
fn header(headers: &HeaderMap, name: &str) -> Option<String> {
    let values: Vec<String> = headers
        .get_all(name.to_ascii_lowercase().as_str())
        .iter()
        .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
        .collect();
    (!values.is_empty()).then(|| values.join(", "))
}

/// The differences of one case, one field per block:
///
/// ```text
///   response.headers[x-ref-lang]
///     expected: "rust"
///     actual:   "js"
/// ```
/// The cases of a fixture file as they run: each printed as it ends, the
/// total at the end.
#[derive(Default)]
pub struct Tally {
    passed: usize,
    failed: usize,
}

impl Tally {
    /// One case: its mismatches, or why it could not run.
    pub fn case(&mut self, name: &str, outcome: anyhow::Result<Vec<Mismatch>>) {
        match outcome {
            Ok(mismatches) if mismatches.is_empty() => {
                self.passed += 1;
                println!("  ok    {name}");
            }
            Ok(mismatches) => {
                self.failed += 1;
                println!("  FAIL  {name}");
                print!("{}", render(&mismatches));
            }
            Err(error) => {
                self.failed += 1;
                println!("  FAIL  {name}");
                println!("    error: {error:#}");
            }
        }
    }

    /// Prints the total; true when every case passed.
    pub fn finish(self, fixtures: &std::path::Path) -> bool {
        println!(
            "{}: {} passed, {} failed",
            fixtures.display(),
            self.passed,
            self.failed
        );
        self.failed == 0
    }
}

pub fn render(mismatches: &[Mismatch]) -> String {
    let show = |v: &Option<String>| match v {
        Some(v) => format!("{v:?}"),
        None => "(absent)".into(),
    };
    let mut out = String::new();
    for m in mismatches {
        let _ = writeln!(out, "    {}", m.field);
        let _ = writeln!(out, "      expected: {}", show(&m.expected));
        let _ = writeln!(out, "      actual:   {}", show(&m.actual));
    }
    out
}
