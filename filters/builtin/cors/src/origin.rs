//! Allowed origins: `*`, an exact origin, or every subdomain of a host
//! (`https://*.example.com`).

/// One entry of `allow_origins`.
#[derive(Debug, PartialEq)]
pub enum OriginPattern {
    /// `*`: any origin (only without credentials).
    Any,
    /// `https://app.example.com` or `http://localhost:3000`, lowercase.
    Exact(String),
    /// `https://*.example.com[:port]`: `scheme` is `https://`, `suffix` is
    /// `.example.com`, `port` is `:8443` or empty.
    Subdomains {
        scheme: String,
        suffix: String,
        port: String,
    },
}

impl OriginPattern {
    pub fn parse(text: &str) -> Result<OriginPattern, String> {
        if text == "*" {
            return Ok(OriginPattern::Any);
        }
        let lower = text.to_ascii_lowercase();
        let (scheme, rest) = lower
            .split_once("://")
            .ok_or_else(|| format!("{text:?} is not an origin (scheme://host[:port])"))?;
        let (host, port) = split_port(rest)
            .ok_or_else(|| format!("{text:?}: an origin has no path, query or trailing `/`"))?;
        let scheme_ok = !scheme.is_empty()
            && scheme
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"+-.".contains(&b));
        if !scheme_ok || host.is_empty() {
            return Err(format!("{text:?} is not an origin (scheme://host[:port])"));
        }
        match host.strip_prefix("*.") {
            Some(parent) if is_host(parent) => Ok(OriginPattern::Subdomains {
                scheme: format!("{scheme}://"),
                suffix: format!(".{parent}"),
                port: port.to_owned(),
            }),
            _ if host.contains('*') => Err(format!(
                "{text:?}: a wildcard may only stand for the leftmost labels (`https://*.example.com`)"
            )),
            _ if is_host(host) || host == "null" => Ok(OriginPattern::Exact(lower)),
            _ => Err(format!("{text:?}: {host:?} is not a host name or address")),
        }
    }

    /// Whether `origin` (an `Origin` header value) matches, ASCII
    /// case-insensitively.
    pub fn matches(&self, origin: &str) -> bool {
        match self {
            OriginPattern::Any => true,
            OriginPattern::Exact(exact) => exact.eq_ignore_ascii_case(origin),
            OriginPattern::Subdomains {
                scheme,
                suffix,
                port,
            } => {
                let origin = origin.to_ascii_lowercase();
                let Some(rest) = origin.strip_prefix(scheme.as_str()) else {
                    return false;
                };
                let Some((host, origin_port)) = split_port(rest) else {
                    return false;
                };
                // At least one whole label before the suffix: `a.example.com`
                // and `a.b.example.com`, never `example.com` or `badexample.com`.
                let subdomain = host.strip_suffix(suffix.as_str());
                origin_port == port && subdomain.is_some_and(|s| !s.is_empty() && is_host(s))
            }
        }
    }
}

/// `host[:port]` into (`host`, `:port` or ``); `None` if a path follows.
fn split_port(rest: &str) -> Option<(&str, &str)> {
    if rest.contains(['/', '?', '#', '@']) {
        return None;
    }
    // `[::1]:8080` keeps its brackets in the host.
    let port_at = match rest.rfind(':') {
        Some(i) if !rest[i..].contains(']') => i,
        _ => return Some((rest, "")),
    };
    let (host, port) = rest.split_at(port_at);
    let digits = &port[1..];
    (!digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit())).then_some((host, port))
}

/// Dot-separated labels of letters, digits and `-`, or a bracketed IPv6 address.
fn is_host(host: &str) -> bool {
    if let Some(inner) = host.strip_prefix('[').and_then(|h| h.strip_suffix(']')) {
        return inner.parse::<std::net::Ipv6Addr>().is_ok();
    }
    !host.is_empty()
        && host.split('.').all(|label| {
            !label.is_empty()
                && label
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-')
        })
}

#[cfg(test)]
mod tests {
    use super::OriginPattern;

    #[test]
    fn subdomain_wildcards_match_on_scheme_port_and_a_label_boundary() {
        let p = OriginPattern::parse("https://*.Example.com").unwrap();
        for yes in [
            "https://a.example.com",
            "https://a.b.example.com",
            "HTTPS://A.EXAMPLE.COM",
        ] {
            assert!(p.matches(yes), "{yes}");
        }
        for no in [
            "https://example.com",
            "https://badexample.com",
            "https://a.example.com.evil.net",
            "http://a.example.com",
            "https://a.example.com:8443",
            "https://.example.com",
            "https://a.example.com/",
            "https://a_b.example.com",
        ] {
            assert!(!p.matches(no), "{no}");
        }
        let with_port = OriginPattern::parse("http://*.local.test:8080").unwrap();
        assert!(with_port.matches("http://app.local.test:8080"));
        assert!(!with_port.matches("http://app.local.test"));
    }

    #[test]
    fn exact_origins_and_bad_patterns() {
        let p = OriginPattern::parse("http://[::1]:3000").unwrap();
        assert!(p.matches("http://[::1]:3000"));
        assert!(!p.matches("http://[::1]:3001"));
        for bad in [
            "example.com",
            "https://example.com/",
            "https://a.*.com",
            "https://*",
            "https://ex ample.com",
            "https://x.com:",
        ] {
            assert!(OriginPattern::parse(bad).is_err(), "{bad}");
        }
    }
}
