//! Where the key travels: a header, a query parameter, or both (the header
//! wins), and removing it before the request goes upstream.

use weir_filter_sdk::Request;

pub struct KeyLocation {
    /// Lowercase header name.
    pub header: Option<String>,
    pub query_param: Option<String>,
}

/// What a request carries.
pub enum Presented {
    Missing,
    Key(Vec<u8>),
    /// More than one value in one place: refused, since the upstream (if the
    /// key is kept) might read a different one than the filter checked.
    Ambiguous,
}

impl KeyLocation {
    pub fn presented(&self, req: &Request) -> Presented {
        if let Some(header) = &self.header {
            let mut values = req.header_all(header);
            match values.len() {
                0 => {}
                1 => return Presented::Key(values.remove(0)),
                _ => return Presented::Ambiguous,
            }
        }
        if let (Some(param), Some(query)) = (&self.query_param, req.query()) {
            let mut values: Vec<Vec<u8>> = query_pairs(&query)
                .filter(|(name, _, _)| name == param)
                .map(|(_, value, _)| value.into_bytes())
                .collect();
            match values.len() {
                0 => {}
                1 => return Presented::Key(values.remove(0)),
                _ => return Presented::Ambiguous,
            }
        }
        Presented::Missing
    }

    /// Removes the key from wherever it may be, so the upstream never sees it.
    pub fn strip(&self, req: &Request) {
        if let Some(header) = &self.header {
            req.remove_header(header);
        }
        if let (Some(param), Some(query)) = (&self.query_param, req.query()) {
            // Other parameters are kept exactly as they came (no re-encoding).
            let kept: Vec<&str> = query_pairs(&query)
                .filter(|(name, _, _)| name != param)
                .map(|(_, _, raw)| raw)
                .collect();
            let rebuilt = (!kept.is_empty()).then(|| kept.join("&"));
            if rebuilt.as_deref() != Some(query.as_str()) {
                // Only fails for invalid text, and `kept` is a part of a valid query.
                let _ = req.set_query(rebuilt.as_deref());
            }
        }
    }
}

/// (decoded name, decoded value, raw segment) of each `&`-separated part.
fn query_pairs(query: &str) -> impl Iterator<Item = (String, String, &str)> {
    query.split('&').filter(|s| !s.is_empty()).map(|raw| {
        let (name, value) = form_urlencoded::parse(raw.as_bytes())
            .next()
            .map(|(n, v)| (n.into_owned(), v.into_owned()))
            .unwrap_or_default();
        (name, value, raw)
    })
}
