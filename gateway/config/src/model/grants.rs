//! The validated `grants` of a filter (`filters.<name>.grants`) or a handler
//! (`handlers.<name>.grants`), and the behaviour of an allowed origin: parse,
//! match, display.

use std::fmt;
use std::net::Ipv6Addr;
use std::path::PathBuf;
use std::str::FromStr;
use std::time::Duration;

use super::routes::{HostMatch, host_match};

/// What a filter or handler may use beyond the request; everything else is
/// denied.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Grants {
    /// Names of stores in `Config::key_value`. `Some(empty)`: listed with no
    /// name, which consents to a filter importing the capability while
    /// granting it nothing (`None`: such a filter is refused).
    pub key_value: Option<Vec<String>>,
    /// Names of secrets in `Config::secrets`; `Some(empty)` as above.
    pub secrets: Option<Vec<String>>,
    pub http: Option<HttpGrant>,
    pub files: Option<FilesGrant>,
}

/// Outbound HTTP.
#[derive(Debug, Clone, PartialEq)]
pub struct HttpGrant {
    /// Requests go only to these origins; at least one.
    pub allow: Vec<Origin>,
    pub connect_timeout: Duration,
    /// Until the response's first byte.
    pub timeout: Duration,
    /// Response body cap.
    pub max_response_bytes: u64,
}

/// An origin a filter may call; parsed, matched and displayed in `model/grants.rs`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    /// `http` or `https`.
    pub scheme: String,
    /// Lower-case; `*.example.com` for a wildcard; an IPv6 address without brackets.
    pub host: String,
    /// As written, or 80/443 from the scheme.
    pub port: u16,
}

/// A read-only directory.
#[derive(Debug, Clone, PartialEq)]
pub struct FilesGrant {
    /// Resolved against the config file's directory; an existing directory.
    pub path: PathBuf,
    /// Where the filter sees it; absolute.
    pub mount: String,
}

fn default_port(scheme: &str) -> Option<u16> {
    match scheme {
        "http" => Some(80),
        "https" => Some(443),
        _ => None,
    }
}

impl Origin {
    /// Whether a request to scheme://host:port is inside this origin. `host` is compared
    /// case-insensitively; `*.example.com` matches `a.example.com` and `a.b.example.com`,
    /// not `example.com`. `port` None means the scheme's default port.
    pub fn allows(&self, scheme: &str, host: &str, port: Option<u16>) -> bool {
        if !scheme.eq_ignore_ascii_case(&self.scheme) {
            return false;
        }
        if port.or_else(|| default_port(&self.scheme)) != Some(self.port) {
            return false;
        }
        let host = host
            .strip_prefix('[')
            .and_then(|h| h.strip_suffix(']'))
            .unwrap_or(host)
            .to_ascii_lowercase();
        // One address has several spellings (`::1`, `0:0::1`); compare the address.
        if let Ok(ip) = host.parse::<Ipv6Addr>() {
            return self.host.parse::<Ipv6Addr>() == Ok(ip);
        }
        match self.host.strip_prefix('*') {
            // The part before the suffix must be whole labels, so that neither
            // `example.com` nor a crafted `a/.example.com` gets through.
            Some(suffix) => host.strip_suffix(suffix).is_some_and(|labels| {
                host_match(labels).is_some_and(|m| matches!(m, HostMatch::Exact(_)))
            }),
            None => host == self.host,
        }
    }
}

/// `scheme://host[:port]` with an optional trailing `/`; the error is the
/// whole message for the config error.
impl FromStr for Origin {
    type Err = String;

    fn from_str(text: &str) -> Result<Origin, String> {
        let invalid = |why: &str| format!("invalid origin {text:?}: {why}");
        let Some((scheme, rest)) = text.split_once("://") else {
            return Err(invalid("expected scheme://host[:port]"));
        };
        let scheme = scheme.to_ascii_lowercase();
        let Some(default) = default_port(&scheme) else {
            return Err(invalid("the scheme must be http or https"));
        };
        let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
        let (authority, tail) = rest.split_at(end);
        match tail.chars().next() {
            None => {}
            Some('/') if tail == "/" => {}
            Some('/') => return Err(invalid("a path is not allowed (only a trailing /)")),
            Some('?') => return Err(invalid("a query is not allowed")),
            Some(_) => return Err(invalid("a fragment is not allowed")),
        }
        if authority.contains('@') {
            // The text is not quoted: the user info may hold a password.
            return Err("invalid origin: user info (user:password@) is not allowed".into());
        }
        let (host, port) = match authority.strip_prefix('[') {
            Some(bracketed) => {
                let Some((ip, after)) = bracketed.split_once(']') else {
                    return Err(invalid("an IPv6 address needs a closing ]"));
                };
                let Ok(ip) = ip.parse::<Ipv6Addr>() else {
                    return Err(invalid("invalid IPv6 address; expected e.g. [::1]:8080"));
                };
                let port = match (after, after.strip_prefix(':')) {
                    ("", _) => None,
                    (_, Some(port)) => Some(port),
                    (_, None) => return Err(invalid("expected :port after the IPv6 address")),
                };
                (ip.to_string(), port)
            }
            None => {
                let (host, port) = match authority.rsplit_once(':') {
                    Some((host, port)) => (host, Some(port)),
                    None => (authority, None),
                };
                let host = match host_match(host) {
                    Some(HostMatch::Exact(host)) => host,
                    Some(HostMatch::WildcardSuffix(suffix)) => format!("*{suffix}"),
                    None => {
                        return Err(invalid(
                            "invalid host; expected e.g. api.example.com, *.example.com or 10.0.0.1",
                        ));
                    }
                };
                (host, port)
            }
        };
        let port = match port {
            None => default,
            // Digits only: `parse` alone would take `+80`.
            Some(p) => match p.parse::<u16>() {
                Ok(port) if port > 0 && p.bytes().all(|b| b.is_ascii_digit()) => port,
                _ => return Err(invalid("the port must be 1-65535")),
            },
        };
        Ok(Origin { scheme, host, port })
    }
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.host.contains(':') {
            write!(f, "{}://[{}]", self.scheme, self.host)?;
        } else {
            write!(f, "{}://{}", self.scheme, self.host)?;
        }
        if default_port(&self.scheme) != Some(self.port) {
            write!(f, ":{}", self.port)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn origin(text: &str) -> Origin {
        text.parse().unwrap_or_else(|e| panic!("{text}: {e}"))
    }

    #[test]
    fn origins_parse_with_default_ports_and_lower_case() {
        let o = origin("HTTPS://API.Example.com/");
        assert_eq!(
            (o.scheme.as_str(), o.host.as_str(), o.port),
            ("https", "api.example.com", 443)
        );
        assert_eq!(origin("http://127.0.0.1:9000").port, 9000);
        assert_eq!(origin("http://h").port, 80);
        assert_eq!(origin("https://*.Example.com").host, "*.example.com");
        assert_eq!(origin("http://[FD00::1]:8080").host, "fd00::1");
        assert_eq!(origin("http://[::1]").port, 80);
    }

    #[test]
    fn invalid_origins_say_why() {
        for (bad, why) in [
            ("example.com", "expected scheme://host[:port]"),
            ("ftp://example.com", "the scheme must be http or https"),
            ("http://example.com/api", "a path is not allowed"),
            ("http://example.com//", "a path is not allowed"),
            ("http://example.com?x=1", "a query is not allowed"),
            ("http://example.com/?x=1", "a path is not allowed"),
            ("http://example.com#top", "a fragment is not allowed"),
            ("http://", "invalid host"),
            ("http://:80", "invalid host"),
            ("http://a.*.example.com", "invalid host"),
            ("http://*example.com", "invalid host"),
            ("http://*", "invalid host"),
            ("http://exa mple.com", "invalid host"),
            ("http://h:0", "the port must be 1-65535"),
            ("http://h:65536", "the port must be 1-65535"),
            ("http://h:+80", "the port must be 1-65535"),
            ("http://h:", "the port must be 1-65535"),
            ("http://[::1", "closing ]"),
            ("http://[nope]:80", "invalid IPv6 address"),
            ("http://[::1]80", "expected :port"),
        ] {
            let err = bad.parse::<Origin>().expect_err(bad);
            assert!(err.contains(why), "{bad}: {err}");
            assert!(err.contains(&format!("{bad:?}")), "{bad}: {err}");
        }
    }

    #[test]
    fn user_info_is_refused_without_quoting_it() {
        let err = "https://me:hunter2@example.com"
            .parse::<Origin>()
            .unwrap_err();
        assert!(err.contains("user info"), "{err}");
        assert!(!err.contains("hunter2"), "{err}");
    }

    #[test]
    fn exact_origins_allow_their_scheme_host_and_port() {
        let o = origin("https://api.example.com");
        assert!(o.allows("https", "api.example.com", None));
        assert!(o.allows("HTTPS", "API.example.COM", Some(443)));
        assert!(!o.allows("http", "api.example.com", None));
        assert!(!o.allows("http", "api.example.com", Some(443)));
        assert!(!o.allows("https", "api.example.com", Some(8443)));
        assert!(!o.allows("https", "example.com", None));
        assert!(!o.allows("https", "x.api.example.com", None));
        assert!(!o.allows("https", "api.example.com.evil.net", None));
        let o = origin("http://127.0.0.1:9000");
        assert!(o.allows("http", "127.0.0.1", Some(9000)));
        assert!(!o.allows("http", "127.0.0.1", None));
    }

    #[test]
    fn wildcards_allow_subdomains_not_the_apex() {
        let o = origin("https://*.example.com");
        assert!(o.allows("https", "a.example.com", None));
        assert!(o.allows("https", "A.B.Example.com", None));
        assert!(!o.allows("https", "example.com", None));
        assert!(!o.allows("https", ".example.com", None));
        assert!(!o.allows("https", "a..example.com", None));
        assert!(!o.allows("https", "evil/.example.com", None));
        assert!(!o.allows("https", "a@x.example.com", None));
        assert!(!o.allows("https", "badexample.com", None));
        assert!(!o.allows("https", "a.example.com.evil.net", None));
        assert!(!o.allows("https", "a.example.com", Some(8443)));
        assert!(!o.allows("http", "a.example.com", None));
    }

    #[test]
    fn ipv6_hosts_match_by_address() {
        let o = origin("http://[fd00::1]:8080");
        assert!(o.allows("http", "[fd00::1]", Some(8080)));
        assert!(o.allows("http", "FD00:0:0::1", Some(8080)));
        assert!(!o.allows("http", "fd00::2", Some(8080)));
        assert!(!o.allows("http", "fd00::1", None));
    }

    #[test]
    fn origins_display_as_written_without_default_ports() {
        for (text, shown) in [
            ("https://API.example.com:443/", "https://api.example.com"),
            ("http://h:80", "http://h"),
            ("http://h:443", "http://h:443"),
            ("https://*.example.com:8443", "https://*.example.com:8443"),
            ("http://[fd00::1]:8080", "http://[fd00::1]:8080"),
        ] {
            assert_eq!(origin(text).to_string(), shown);
            assert_eq!(origin(shown), origin(text), "display parses back");
        }
    }
}
