//! JSON Pointers (RFC 6901), checked once at start-up and kept split into
//! unescaped reference tokens, so no request pays for parsing them.

/// A pointer to a member or element below the document's root.
#[derive(Debug, Clone)]
pub struct Pointer {
    /// As written, e.g. `/user/e~1mail`.
    text: String,
    /// The tokens down to the parent, unescaped (`["user"]`; none for the
    /// root).
    parent: Vec<String>,
    /// The last reference token, unescaped (`e/mail`).
    last: String,
}

impl Pointer {
    pub fn parse(text: &str) -> Result<Pointer, String> {
        if !text.starts_with('/') {
            return Err(format!(
                "{text:?} is not a JSON Pointer below the root: it must start with `/` (e.g. `/user/name`)"
            ));
        }
        for token in text[1..].split('/') {
            let mut chars = token.chars();
            while let Some(c) = chars.next() {
                if c == '~' && !matches!(chars.next(), Some('0' | '1')) {
                    return Err(format!(
                        "{text:?}: `~` must be followed by 0 (for `~`) or 1 (for `/`)"
                    ));
                }
            }
        }
        let mut tokens: Vec<String> = text[1..].split('/').map(unescape).collect();
        let last = tokens.pop().expect("split yields at least one token");
        Ok(Pointer {
            text: text.to_owned(),
            parent: tokens,
            last,
        })
    }

    pub fn as_str(&self) -> &str {
        &self.text
    }

    pub fn parent(&self) -> &[String] {
        &self.parent
    }

    pub fn last(&self) -> &str {
        &self.last
    }
}

/// An array index per RFC 6901: digits, no leading zero.
pub fn array_index(token: &str) -> Option<usize> {
    let digits = !token.is_empty() && token.bytes().all(|b| b.is_ascii_digit());
    if !digits || (token.len() > 1 && token.starts_with('0')) {
        return None;
    }
    token.parse().ok()
}

/// `~1` before `~0`, as RFC 6901 says: `~01` is the name `~1`.
fn unescape(token: &str) -> String {
    token.replace("~1", "/").replace("~0", "~")
}
