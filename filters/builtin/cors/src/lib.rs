//! `cors`: Cross-Origin Resource Sharing per the Fetch standard.
//!
//! Preflights (`OPTIONS` with `Origin` and `Access-Control-Request-Method`)
//! are answered here and never reach the upstream: 204 with the
//! `Access-Control-Allow-*` headers when the origin, method and headers are
//! allowed, 403 without any CORS header otherwise. Actual cross-origin
//! requests go upstream and get `Access-Control-Allow-Origin` (and
//! `-Credentials`, `-Expose-Headers`) on the way back when their origin is
//! allowed. Requests without `Origin` pass untouched. See
//! `docs/filters/cors.md`.

mod origin;
mod settings;

use weir_filter_sdk::{
    Config, Decision, Filter, Phases, ReplyBuilder, Request, Response, export_filter, respond,
};

use crate::origin::OriginPattern;
use crate::settings::{CorsPolicy, Listed, normalize_method};

/// What this request turned out to be; set per request (instances are reused).
enum Exchange {
    /// No `Origin`: not a CORS request.
    NotCors,
    /// A preflight this filter answered.
    Answered,
    /// A cross-origin request; `Some(origin)` when the origin is allowed.
    Actual(Option<String>),
}

struct Cors {
    policy: CorsPolicy,
    /// Whether answers depend on the `Origin` (everything but a lone `*`),
    /// which caches must be told with `Vary: Origin`.
    varies_by_origin: bool,
    exchange: Exchange,
}

impl Filter for Cors {
    fn new(config: Config) -> Result<Self, String> {
        let policy = CorsPolicy::load(&config)?;
        let varies_by_origin = policy.origins != [OriginPattern::Any];
        Ok(Cors {
            policy,
            varies_by_origin,
            exchange: Exchange::NotCors,
        })
    }

    fn phases(&self) -> Phases {
        Phases::REQUEST_HEADERS | Phases::RESPONSE_HEADERS
    }

    fn on_request_headers(&mut self, req: &Request) -> Decision {
        self.exchange = Exchange::NotCors;
        let mut origins = req.header_all("origin");
        if origins.is_empty() {
            return Decision::Continue;
        }
        // Browsers send one Origin; two is not a browser, and is allowed nothing.
        let origin = match origins.len() {
            1 => String::from_utf8(origins.remove(0)).ok(),
            _ => None,
        };
        let requested_method = req.header_str("access-control-request-method");
        if let (true, Some(method)) = (req.method() == "OPTIONS", requested_method) {
            self.exchange = Exchange::Answered;
            return self.preflight(req, origin.as_deref(), &method).into();
        }
        let allowed = origin.filter(|o| self.origin_allowed(o));
        self.exchange = Exchange::Actual(allowed);
        Decision::Continue
    }

    fn on_response_headers(&mut self, _req: &Request, resp: &Response) -> Decision {
        match std::mem::replace(&mut self.exchange, Exchange::NotCors) {
            Exchange::Answered => {}
            Exchange::NotCors => {
                // The same URL with an Origin would get other headers: a
                // shared cache must not hand this response to a CORS request.
                if self.varies_by_origin {
                    add_vary(resp, "Origin");
                }
            }
            Exchange::Actual(origin) => {
                // The filter owns CORS: an upstream's own (perhaps more
                // permissive) headers do not reach the browser.
                for name in CORS_RESPONSE_HEADERS {
                    resp.remove_header(name);
                }
                if self.varies_by_origin {
                    add_vary(resp, "Origin");
                }
                if let Some(origin) = origin {
                    // Header values were checked (origin text, tokens) when read.
                    let _ = resp.set_header(
                        "access-control-allow-origin",
                        self.allow_origin_value(&origin).as_bytes(),
                    );
                    if self.policy.credentials {
                        let _ = resp.set_header("access-control-allow-credentials", b"true");
                    }
                    if let Some(expose) = &self.policy.expose_headers {
                        let _ = resp.set_header("access-control-expose-headers", expose.as_bytes());
                    }
                }
            }
        }
        Decision::Continue
    }
}

const CORS_RESPONSE_HEADERS: [&str; 6] = [
    "access-control-allow-origin",
    "access-control-allow-credentials",
    "access-control-expose-headers",
    "access-control-allow-methods",
    "access-control-allow-headers",
    "access-control-max-age",
];

impl Cors {
    fn origin_allowed(&self, origin: &str) -> bool {
        self.policy.origins.iter().any(|p| p.matches(origin))
    }

    /// `*` for a lone wildcard (never with credentials, see settings), else
    /// the origin itself.
    fn allow_origin_value<'a>(&self, origin: &'a str) -> &'a str {
        if self.varies_by_origin { origin } else { "*" }
    }

    fn preflight(&self, req: &Request, origin: Option<&str>, method: &str) -> ReplyBuilder {
        let requested_headers = requested_headers(req);
        let mut vary = vec![
            "Access-Control-Request-Method",
            "Access-Control-Request-Headers",
        ];
        if self.varies_by_origin {
            vary.insert(0, "Origin");
        }
        let method = normalize_method(method.trim());
        let allowed = origin.filter(|o| self.origin_allowed(o)).filter(|_| {
            listed(&self.policy.methods, &method)
                && requested_headers
                    .iter()
                    .all(|h| listed(&self.policy.headers, h))
        });
        let Some(origin) = allowed else {
            // A refusal carries no CORS header at all: the browser blocks the
            // actual request and the page learns nothing about the policy.
            return respond(403).header("vary", vary.join(", "));
        };
        let methods = match &self.policy.methods {
            Listed::Any => method,
            Listed::Only(methods) => methods.join(", "),
        };
        let mut reply = respond(204)
            .header(
                "access-control-allow-origin",
                self.allow_origin_value(origin),
            )
            .header("access-control-allow-methods", methods)
            .header("vary", vary.join(", "));
        if !requested_headers.is_empty() {
            // Echoing the (all allowed) names also covers `authorization`,
            // which a `*` answer would not.
            reply = reply.header("access-control-allow-headers", requested_headers.join(", "));
        }
        if self.policy.credentials {
            reply = reply.header("access-control-allow-credentials", "true");
        }
        if let Some(seconds) = self.policy.max_age {
            reply = reply.header("access-control-max-age", seconds.to_string());
        }
        reply
    }
}

/// `Access-Control-Request-Headers`, lowercase, in order (invalid names kept,
/// so they fail the allow check).
fn requested_headers(req: &Request) -> Vec<String> {
    req.header_all("access-control-request-headers")
        .iter()
        .flat_map(|v| {
            String::from_utf8_lossy(v)
                .split(',')
                .map(|h| h.trim().to_ascii_lowercase())
                .collect::<Vec<_>>()
        })
        .filter(|h| !h.is_empty())
        .collect()
}

fn listed(list: &Listed, value: &str) -> bool {
    match list {
        Listed::Any => settings::is_token(value),
        Listed::Only(values) => values.iter().any(|v| v == value),
    }
}

/// Appends `token` to `Vary` unless it is already there or `Vary: *`.
fn add_vary(resp: &Response, token: &str) {
    let present = resp.header_all("vary").iter().any(|v| {
        String::from_utf8_lossy(v)
            .split(',')
            .map(str::trim)
            .any(|t| t == "*" || t.eq_ignore_ascii_case(token))
    });
    if !present {
        let _ = resp.append_header("vary", token.as_bytes());
    }
}

export_filter!(Cors);
