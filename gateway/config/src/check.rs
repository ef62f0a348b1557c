//! From the file's items to the validated [`Config`]: defaults, value checks,
//! cross references and route order. Every problem is collected; a config
//! with any error is refused as a whole.

use std::collections::{BTreeMap, BTreeSet};
use std::net::{IpAddr, Ipv6Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::time::Duration;

use ipnet::IpNet;
use regex::Regex;

use crate::error::ConfigError;
use crate::model::*;
use crate::parse::{ConfigPath, Document, error_at, line_of, node_at, to_json};
use crate::schema::*;

mod access_log;
mod capabilities;
mod tls;
mod tracing;

/// Collects errors with lines looked up in the document.
struct Checker<'a> {
    doc: &'a Document,
    base_dir: &'a Path,
    errors: Vec<ConfigError>,
    /// Problems that do not refuse the config (a certificate expiring soon).
    warnings: Vec<ConfigError>,
}

impl Checker<'_> {
    fn error(&mut self, path: &ConfigPath, message: impl AsRef<str>) {
        let line = line_of(&self.doc.root, path);
        self.errors.push(error_at(path, line, message.as_ref()));
    }

    fn warning(&mut self, path: &ConfigPath, message: impl AsRef<str>) {
        let line = line_of(&self.doc.root, path);
        self.warnings.push(error_at(path, line, message.as_ref()));
    }

    /// Counts and thresholds, where 0 would silently disable something.
    fn at_least_one(&mut self, path: &ConfigPath, value: u64) {
        if value == 0 {
            self.error(path, "must be at least 1, got 0");
        }
    }

    /// Timeouts and deadlines, where 0 would fail every request.
    fn more_than_zero(&mut self, path: &ConfigPath, value: Duration) {
        if value.is_zero() {
            self.error(path, "must be more than 0, got 0s");
        }
    }

    fn resolve(&self, file: &str) -> PathBuf {
        let path = Path::new(file);
        if path.is_absolute() {
            path.to_path_buf()
        } else {
            self.base_dir.join(path)
        }
    }
}

pub fn check(
    doc: &Document,
    base_dir: &Path,
    mut errors: Vec<ConfigError>,
) -> Result<Config, Vec<ConfigError>> {
    let mut c = Checker {
        doc,
        base_dir,
        errors: Vec::new(),
        warnings: Vec::new(),
    };
    let server = server(&mut c);
    let listeners = listeners(&mut c, server.certificate_expiry_warning);
    let upstreams: BTreeMap<String, Upstream> = doc
        .upstreams
        .iter()
        .filter_map(|(path, name, file)| {
            upstream(&mut c, path, name, file).map(|u| (name.clone(), u))
        })
        .collect();
    let key_value = capabilities::key_value(&mut c);
    let secrets = capabilities::secrets(&mut c);
    let filters: BTreeMap<String, Filter> = doc
        .filters
        .iter()
        .filter_map(|(path, name, file)| {
            filter(&mut c, path, name, file).map(|f| (name.clone(), f))
        })
        .collect();
    // References are checked against every name defined, even those whose
    // definition has errors, so one mistake is reported once.
    for (i, name) in doc.global_filters.iter().enumerate() {
        if !doc.filter_names.contains(name) {
            c.error(
                &ConfigPath::default().key("global_filters").index(i),
                format!("unknown filter {name:?}"),
            );
        }
    }
    let mut routes = routes(&mut c);
    routes.sort_by(|a, b| order_key(b).cmp(&order_key(a)).then(a.index.cmp(&b.index)));
    let admin = admin(&mut c);
    let access_log = access_log::access_log(&mut c);
    let tracing = tracing::tracing(&mut c);

    errors.append(&mut c.errors);
    if !errors.is_empty() {
        errors.sort_by_key(|e| e.line.unwrap_or(usize::MAX));
        return Err(errors);
    }
    let mut warnings = c.warnings;
    warnings.sort_by_key(|e| e.line.unwrap_or(usize::MAX));
    Ok(Config {
        warnings,
        server,
        listeners,
        upstreams,
        filters,
        global_chain: doc.global_filters.clone(),
        routes,
        admin,
        key_value,
        secrets,
        access_log,
        tracing,
    })
}

fn server(c: &mut Checker) -> ServerSettings {
    let path = ConfigPath::default().key("server");
    let file = c.doc.server.as_ref();
    let threads = file
        .and_then(|s| s.threads)
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    c.at_least_one(&path.key("threads"), threads as u64);
    let max_filter_instances = file.and_then(|s| s.max_filter_instances).unwrap_or(1000);
    c.at_least_one(
        &path.key("max_filter_instances"),
        max_filter_instances.into(),
    );
    ServerSettings {
        threads: threads.max(1),
        grace_period: file
            .and_then(|s| s.grace_period)
            .map_or(Duration::from_secs(5), |d| d.0),
        work_stealing: file.and_then(|s| s.work_stealing).unwrap_or(true),
        upstream_keepalive_pool_size: file
            .and_then(|s| s.upstream_keepalive_pool_size)
            .unwrap_or(128),
        cache_dir: file
            .and_then(|s| s.cache_dir.as_deref())
            .map(|d| c.resolve(d)),
        max_filter_instances: max_filter_instances.max(1),
        certificate_expiry_warning: file
            .and_then(|s| s.certificate_expiry_warning)
            .map_or(Duration::from_secs(30 * 86_400), |d| d.0),
        upgrade_socket: file
            .and_then(|s| s.upgrade_socket.as_deref())
            .map_or_else(|| PathBuf::from("/tmp/weir-upgrade.sock"), |p| c.resolve(p)),
    }
}

fn listeners(c: &mut Checker, expiry_warning: Duration) -> Vec<Listener> {
    let mut names = BTreeSet::new();
    let mut addresses = BTreeSet::new();
    let mut out = Vec::new();
    for (path, file) in &c.doc.listeners {
        if !names.insert(file.name.clone()) {
            c.error(
                &path.key("name"),
                format!("duplicate listener name {:?}", file.name),
            );
        }
        let address = match file.address.parse::<SocketAddr>() {
            Ok(a) => {
                if !addresses.insert(a) {
                    c.error(
                        &path.key("address"),
                        format!("another listener already uses {a}"),
                    );
                }
                Some(a)
            }
            Err(_) => {
                c.error(
                    &path.key("address"),
                    format!("invalid address {:?}; expected ip:port", file.address),
                );
                None
            }
        };
        let tls = file
            .tls
            .as_ref()
            .map(|tls| listener_tls(c, &path.key("tls"), tls, expiry_warning));
        let limits = file.limits.as_ref();
        let max_header_bytes = limits
            .and_then(|l| l.max_header_bytes)
            .map_or(64 * 1024, |s| s.0 as usize);
        c.at_least_one(
            &path.key("limits").key("max_header_bytes"),
            max_header_bytes as u64,
        );
        let max_request_line = limits
            .and_then(|l| l.max_request_line)
            .map_or(8 * 1024, |s| s.0 as usize);
        c.at_least_one(
            &path.key("limits").key("max_request_line"),
            max_request_line as u64,
        );
        let mut trusted_proxies = Vec::new();
        for (i, text) in file.trusted_proxies.iter().enumerate() {
            match parse_net(text) {
                Some(net) => trusted_proxies.push(net),
                None => c.error(
                    &path.key("trusted_proxies").index(i),
                    format!("invalid network {text:?}; expected a CIDR like 10.0.0.0/8 or an IP"),
                ),
            }
        }
        if let Some(address) = address {
            out.push(Listener {
                name: file.name.clone(),
                address,
                tls,
                // h2 by ALPN on TLS unless turned off; h2c (prior
                // knowledge, no negotiation) only when asked for.
                http2: file.http2.unwrap_or(file.tls.is_some()),
                limits: RequestLimits {
                    max_header_bytes,
                    max_request_line,
                    max_body_bytes: limits.and_then(|l| l.max_body_bytes).map(|s| s.0),
                },
                trusted_proxies,
            });
        }
    }
    out
}

fn listener_tls(
    c: &mut Checker,
    path: &ConfigPath,
    tls: &ListenerTlsFile,
    expiry_warning: Duration,
) -> ListenerTls {
    if tls.certificates.is_empty() {
        c.error(
            &path.key("certificates"),
            "at least one certificate is required",
        );
    }
    let mut certificates = Vec::new();
    for (i, cert) in tls.certificates.iter().enumerate() {
        let path = path.key("certificates").index(i);
        let mut valid_names = Vec::new();
        for (j, name) in cert.server_names.iter().enumerate() {
            if host_match(name).is_none() {
                c.error(
                    &path.key("server_names").index(j),
                    format!("invalid server name {name:?}; expected a name like api.example.com or *.example.com"),
                );
            } else {
                valid_names.push((j, name.to_ascii_lowercase()));
            }
        }
        let (cert_path, key_path) = (c.resolve(&cert.cert), c.resolve(&cert.key));
        let findings = tls::check_certificate(
            &cert_path,
            &key_path,
            &valid_names,
            expiry_warning,
            std::time::SystemTime::now(),
        );
        for finding in findings {
            let at = match finding.field {
                tls::Field::Cert => path.key("cert"),
                tls::Field::Key => path.key("key"),
                tls::Field::ServerName(j) => path.key("server_names").index(j),
            };
            if finding.warning {
                c.warning(&at, finding.message);
            } else {
                c.error(&at, finding.message);
            }
        }
        certificates.push(Certificate {
            server_names: cert
                .server_names
                .iter()
                .map(|n| n.to_ascii_lowercase())
                .collect(),
            cert_path,
            key_path,
        });
    }
    ListenerTls { certificates }
}

fn parse_net(text: &str) -> Option<IpNet> {
    text.parse::<IpNet>()
        .ok()
        .or_else(|| text.parse::<IpAddr>().ok().map(IpNet::from))
}

fn upstream(
    c: &mut Checker,
    path: &ConfigPath,
    name: &str,
    file: &UpstreamFile,
) -> Option<Upstream> {
    let errors_before = c.errors.len();
    if file.targets.is_empty() {
        c.error(&path.key("targets"), "at least one target is required");
    }
    let targets: Vec<Target> = file
        .targets
        .iter()
        .enumerate()
        .map(|(i, t)| {
            let target_path = path.key("targets").index(i);
            if !valid_host_port(&t.address) {
                c.error(
                    &target_path.key("address"),
                    format!("invalid address {:?}; expected host:port", t.address),
                );
            }
            let weight = t.weight.unwrap_or(1);
            c.at_least_one(&target_path.key("weight"), weight.into());
            Target {
                address: t.address.clone(),
                weight,
            }
        })
        .collect();
    let balance = match (
        file.balance.unwrap_or(BalanceFile::RoundRobin),
        &file.hash_on,
    ) {
        (BalanceFile::ConsistentHash, Some(key)) => Balance::ConsistentHash(match key {
            HashOnFile::Header(h) => HashKey::Header(h.to_ascii_lowercase()),
            HashOnFile::Cookie(name) => HashKey::Cookie(name.clone()),
            HashOnFile::ClientIp => HashKey::ClientIp,
        }),
        (BalanceFile::ConsistentHash, None) => {
            c.error(
                &path.key("balance"),
                "consistent_hash needs `hash_on` (header, cookie or client_ip)",
            );
            Balance::RoundRobin
        }
        (_, Some(_)) => {
            c.error(
                &path.key("hash_on"),
                "`hash_on` is only used with `balance: consistent_hash`",
            );
            Balance::RoundRobin
        }
        (BalanceFile::RoundRobin, None) => Balance::RoundRobin,
        (BalanceFile::Weighted, None) => Balance::Weighted,
        (BalanceFile::LeastConnections, None) => Balance::LeastConnections,
        (BalanceFile::PowerOfTwoChoices, None) => Balance::PowerOfTwoChoices,
    };
    let health_check = file.health_check.as_ref().map(|h| {
        let hc_path = path.key("health_check");
        if !h.path.starts_with('/') {
            c.error(
                &hc_path.key("path"),
                format!("path {:?} must start with /", h.path),
            );
        }
        let expected_status = match &h.expected_status {
            None => (200, 399),
            Some(range) => parse_status_range(&range.0).unwrap_or_else(|| {
                c.error(
                    &hc_path.key("expected_status"),
                    format!(
                        "invalid status range {:?}; expected e.g. 200-399 or 204",
                        range.0
                    ),
                );
                (200, 399)
            }),
        };
        let unhealthy_threshold = h.unhealthy_threshold.unwrap_or(3);
        let healthy_threshold = h.healthy_threshold.unwrap_or(2);
        for (field, value) in [
            ("unhealthy_threshold", unhealthy_threshold),
            ("healthy_threshold", healthy_threshold),
        ] {
            c.at_least_one(&hc_path.key(field), value.into());
        }
        HealthCheck {
            path: h.path.clone(),
            interval: h.interval.map_or(Duration::from_secs(10), |d| d.0),
            timeout: h.timeout.map_or(Duration::from_secs(2), |d| d.0),
            unhealthy_threshold,
            healthy_threshold,
            expected_status,
        }
    });
    let passive_health = file.passive_health.as_ref().map(|p| {
        let max_failures = p.max_failures.unwrap_or(5);
        c.at_least_one(
            &path.key("passive_health").key("max_failures"),
            max_failures.into(),
        );
        PassiveHealth {
            max_failures,
            ejection_time: p.ejection_time.map_or(Duration::from_secs(30), |d| d.0),
        }
    });
    let t = file.timeouts.as_ref();
    let timeouts = Timeouts {
        connect: t
            .and_then(|t| t.connect)
            .map_or(Duration::from_secs(2), |d| d.0),
        read: t
            .and_then(|t| t.read)
            .map_or(Duration::from_secs(30), |d| d.0),
        write: t
            .and_then(|t| t.write)
            .map_or(Duration::from_secs(30), |d| d.0),
        idle: t
            .and_then(|t| t.idle)
            .map_or(Duration::from_secs(60), |d| d.0),
    };
    for (field, value) in [
        ("connect", timeouts.connect),
        ("read", timeouts.read),
        ("write", timeouts.write),
    ] {
        c.more_than_zero(&path.key("timeouts").key(field), value);
    }
    let r = file.retries.as_ref();
    let retries = Retries {
        count: r.and_then(|r| r.count).unwrap_or(1),
        idempotent_only_after_connect: r.and_then(|r| r.idempotent_only).unwrap_or(true),
    };
    let tls = file.tls.as_ref().map(|t| UpstreamTls {
        sni: t.sni.clone(),
        verify: t.verify.unwrap_or(true),
        ca_file: t.ca_file.as_deref().map(|f| c.resolve(f)),
    });
    (c.errors.len() == errors_before).then(|| Upstream {
        name: name.to_owned(),
        targets,
        balance,
        health_check,
        passive_health,
        timeouts,
        retries,
        tls,
    })
}

/// `host:port` with a non-empty host and a port; IPv6 hosts in brackets.
fn valid_host_port(address: &str) -> bool {
    let Some((host, port)) = address.rsplit_once(':') else {
        return false;
    };
    let host_ok = match host.strip_prefix('[').and_then(|h| h.strip_suffix(']')) {
        Some(ipv6) => ipv6.parse::<Ipv6Addr>().is_ok(),
        None => {
            !host.is_empty()
                && !host.contains([':', '[', ']', '/'])
                && !host.contains(char::is_whitespace)
        }
    };
    host_ok && port.parse::<u16>().is_ok_and(|p| p > 0)
}

fn parse_status_range(text: &str) -> Option<(u16, u16)> {
    let valid = |s: u16| (100..=599).contains(&s);
    let (low, high) = match text.split_once('-') {
        Some((a, b)) => (a.trim().parse().ok()?, b.trim().parse().ok()?),
        None => {
            let s = text.trim().parse().ok()?;
            (s, s)
        }
    };
    (valid(low) && valid(high) && low <= high).then_some((low, high))
}

fn filter(c: &mut Checker, path: &ConfigPath, name: &str, file: &FilterFile) -> Option<Filter> {
    let errors_before = c.errors.len();
    let l = file.limits.as_ref();
    let limits = FilterLimits {
        call_deadline: l
            .and_then(|l| l.call_deadline)
            .map_or(Duration::from_millis(100), |d| d.0),
        memory_bytes: l.and_then(|l| l.memory).map_or(64 << 20, |s| s.0 as usize),
        max_body_bytes: l
            .and_then(|l| l.max_body_bytes)
            .map_or(1 << 20, |s| s.0 as usize),
        recycle_after: l.and_then(|l| l.recycle_after).unwrap_or(10_000),
        max_idle_instances: l.and_then(|l| l.max_idle_instances).unwrap_or(64),
        max_concurrent_calls: l.and_then(|l| l.max_concurrent_calls).unwrap_or(100),
    };
    let limits_path = path.key("limits");
    c.more_than_zero(&limits_path.key("call_deadline"), limits.call_deadline);
    // Below 1MiB a Rust component cannot fit its default stack; 4GiB is the
    // whole wasm32 address space.
    if !((1 << 20)..=(4 << 30)).contains(&limits.memory_bytes) {
        c.error(
            &limits_path.key("memory"),
            format!(
                "must be between 1MiB and 4GiB, got {} bytes",
                limits.memory_bytes
            ),
        );
    }
    c.at_least_one(
        &limits_path.key("recycle_after"),
        limits.recycle_after.into(),
    );
    c.at_least_one(
        &limits_path.key("max_concurrent_calls"),
        limits.max_concurrent_calls.into(),
    );
    let grants = capabilities::grants(c, &path.key("grants"), file.grants.as_ref());
    let circuit_breaker = capabilities::circuit_breaker(
        c,
        &path.key("circuit_breaker"),
        file.circuit_breaker.as_ref(),
    );
    if file.module.trim().is_empty() {
        c.error(&path.key("module"), "module path is empty");
    }
    let config_json =
        node_at(&c.doc.root, &path.key("config")).map_or(serde_json::Value::Null, to_json);
    (c.errors.len() == errors_before).then(|| Filter {
        name: name.to_owned(),
        module: c.resolve(&file.module),
        config_json: config_json.to_string(),
        limits,
        on_error: match file.on_error.unwrap_or(OnErrorFile::FailClosed) {
            OnErrorFile::FailClosed => OnError::FailClosed,
            OnErrorFile::FailOpen => OnError::FailOpen,
        },
        isolation: match file.isolation.unwrap_or(IsolationFile::Pooled) {
            IsolationFile::Pooled => Isolation::Pooled,
            IsolationFile::PerRequest => Isolation::PerRequest,
        },
        grants,
        circuit_breaker,
    })
}

fn routes(c: &mut Checker) -> Vec<Route> {
    let mut names = BTreeSet::new();
    let mut out = Vec::new();
    let doc = c.doc;
    for (path, index, file) in &doc.routes {
        let errors_before = c.errors.len();
        let name = file
            .name
            .clone()
            .unwrap_or_else(|| format!("routes[{index}]"));
        if !names.insert(name.clone()) {
            c.error(&path.key("name"), format!("duplicate route name {name:?}"));
        }
        let matcher = file
            .matcher
            .as_ref()
            .map(|m| route_match(c, &path.key("match"), m))
            .unwrap_or_default();
        let action = match (&file.upstream, &file.respond) {
            (Some(upstream), None) => {
                if !doc.upstream_names.contains(upstream) {
                    c.error(
                        &path.key("upstream"),
                        format!("unknown upstream {upstream:?}"),
                    );
                }
                let strip_prefix = file.strip_prefix.unwrap_or(false);
                if strip_prefix && !matches!(matcher.path, Some(PathMatch::Prefix(_))) {
                    c.error(
                        &path.key("strip_prefix"),
                        "strip_prefix needs a `prefix` path match",
                    );
                }
                Some(RouteAction::Proxy(ProxyAction {
                    upstream: upstream.clone(),
                    strip_prefix,
                    host_rewrite: file.host_rewrite.clone(),
                }))
            }
            (None, Some(respond)) => {
                for field in ["strip_prefix", "host_rewrite"] {
                    if node_at(&doc.root, &path.key(field)).is_some() {
                        c.error(
                            &path.key(field),
                            format!("`{field}` only applies to routes with an `upstream`"),
                        );
                    }
                }
                let status = respond.status.unwrap_or(200);
                if !(100..=599).contains(&status) {
                    c.error(
                        &path.key("respond").key("status"),
                        format!("status {status} is not in 100-599"),
                    );
                }
                for (header, value) in &respond.headers {
                    let header_path = path.key("respond").key("headers").key(header);
                    if http_name(header).is_none() {
                        c.error(&header_path, format!("invalid header name {header:?}"));
                    } else if value.bytes().any(|b| b == b'\r' || b == b'\n' || b == 0) {
                        c.error(
                            &header_path,
                            format!("the value of header {header:?} contains a line break or NUL"),
                        );
                    }
                }
                Some(RouteAction::Respond(DirectResponse {
                    status,
                    headers: respond
                        .headers
                        .iter()
                        .map(|(k, v)| (k.to_ascii_lowercase(), v.clone()))
                        .collect(),
                    body: respond.body.clone(),
                }))
            }
            _ => {
                c.error(path, "a route needs exactly one of `upstream` or `respond`");
                None
            }
        };
        for (i, filter) in file.filters.iter().enumerate() {
            if !doc.filter_names.contains(filter) {
                c.error(
                    &path.key("filters").index(i),
                    format!("unknown filter {filter:?}"),
                );
            }
        }
        if let (Some(action), true) = (action, c.errors.len() == errors_before) {
            out.push(Route {
                name,
                index: *index,
                priority: file.priority.unwrap_or(0),
                matcher,
                action,
                filters: file.filters.clone(),
            });
        }
    }
    out
}

fn route_match(c: &mut Checker, path: &ConfigPath, file: &MatchFile) -> RouteMatch {
    let mut hosts = Vec::new();
    for (i, host) in file.hosts.iter().enumerate() {
        match host_match(host) {
            Some(host) => hosts.push(host),
            None => c.error(
                &path.key("hosts").index(i),
                format!("invalid host {host:?}; expected a name like api.example.com or *.example.com (no port)"),
            ),
        }
    }
    let path_match = file.path.as_ref().and_then(|p| {
        let path = path.key("path");
        match (&p.prefix, &p.exact, &p.regex) {
            (Some(prefix), None, None) => {
                if !prefix.starts_with('/') {
                    c.error(
                        &path.key("prefix"),
                        format!("prefix {prefix:?} must start with /"),
                    );
                }
                Some(PathMatch::Prefix(prefix.clone()))
            }
            (None, Some(exact), None) => {
                if !exact.starts_with('/') {
                    c.error(
                        &path.key("exact"),
                        format!("path {exact:?} must start with /"),
                    );
                }
                Some(PathMatch::Exact(exact.clone()))
            }
            (None, None, Some(regex)) => {
                compile_regex(c, &path.key("regex"), regex).map(PathMatch::Regex)
            }
            _ => {
                c.error(
                    &path,
                    "a path match needs exactly one of `prefix`, `exact` or `regex`",
                );
                None
            }
        }
    });
    let mut methods = Vec::new();
    for (i, method) in file.methods.iter().enumerate() {
        let upper = method.to_ascii_uppercase();
        if !is_token(&upper) {
            c.error(
                &path.key("methods").index(i),
                format!("invalid method {method:?}"),
            );
        }
        methods.push(upper);
    }
    let headers = file
        .headers
        .iter()
        .enumerate()
        .filter_map(|(i, h)| {
            let item = path.key("headers").index(i);
            let name = http_name(&h.name);
            if name.is_none() {
                c.error(
                    &item.key("name"),
                    format!("invalid header name {:?}", h.name),
                );
            }
            let value = value_match(c, &item, h)?;
            Some(HeaderMatch { name: name?, value })
        })
        .collect();
    let query = file
        .query
        .iter()
        .enumerate()
        .filter_map(|(i, q)| {
            let item = path.key("query").index(i);
            if q.name.is_empty() {
                c.error(&item.key("name"), "query parameter name is empty");
            }
            let value = value_match(c, &item, q)?;
            Some(QueryMatch {
                name: q.name.clone(),
                value,
            })
        })
        .collect();
    RouteMatch {
        hosts,
        path: path_match,
        methods,
        headers,
        query,
    }
}

fn value_match(c: &mut Checker, path: &ConfigPath, file: &ValueMatchFile) -> Option<ValueMatch> {
    match (file.present, &file.exact, &file.regex) {
        (Some(true), None, None) => Some(ValueMatch::Present),
        (Some(false), None, None) => {
            c.error(
                &path.key("present"),
                "`present: false` matches nothing; use a route without the condition",
            );
            None
        }
        (None, Some(exact), None) => Some(ValueMatch::Exact(exact.clone())),
        (None, None, Some(regex)) => {
            compile_regex(c, &path.key("regex"), regex).map(ValueMatch::Regex)
        }
        _ => {
            c.error(
                path,
                "needs exactly one of `present: true`, `exact` or `regex`",
            );
            None
        }
    }
}

/// `api.example.com` or `*.example.com`, lower-cased; `None` if invalid.
/// The wildcard is only allowed as a whole leading label, and ports are not
/// part of a host match.
pub(crate) fn host_match(host: &str) -> Option<HostMatch> {
    let host = host.to_ascii_lowercase();
    let is_dns_name = |name: &str| {
        name.split('.').all(|label| {
            !label.is_empty()
                && label
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-')
        })
    };
    match host.strip_prefix("*.") {
        Some(suffix) if is_dns_name(suffix) => {
            Some(HostMatch::WildcardSuffix(format!(".{suffix}")))
        }
        None if is_dns_name(&host) => Some(HostMatch::Exact(host)),
        _ => None,
    }
}

/// An RFC 9110 token: the syntax of method and header names.
fn is_token(text: &str) -> bool {
    !text.is_empty()
        && text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}

/// Lower-case header name if valid.
fn http_name(name: &str) -> Option<String> {
    is_token(name).then(|| name.to_ascii_lowercase())
}

fn compile_regex(c: &mut Checker, path: &ConfigPath, pattern: &str) -> Option<Regex> {
    Regex::new(pattern)
        .map_err(|e| c.error(path, format!("invalid regex: {}", one_line(&e.to_string()))))
        .ok()
}

fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The evaluation order key, compared descending; ties keep file order.
/// First `priority`, then specificity, field by field:
/// - path kind: exact 3, regex 2, prefix 1, none 0;
/// - prefix length in bytes (0 unless a prefix), so `/a/b` precedes `/a`;
/// - host kind: any exact host 2, only wildcards 1, no hosts 0;
/// - number of conditions: methods (1 if any), each header, each query parameter.
///
/// docs/config.md ("Evaluation order") describes the same for users.
fn order_key(route: &Route) -> (i32, u8, usize, u8, usize) {
    let m = &route.matcher;
    let (path_kind, prefix_len) = match &m.path {
        Some(PathMatch::Exact(_)) => (3, 0),
        Some(PathMatch::Regex(_)) => (2, 0),
        Some(PathMatch::Prefix(p)) => (1, p.len()),
        None => (0, 0),
    };
    let host_kind = if m.hosts.iter().any(|h| matches!(h, HostMatch::Exact(_))) {
        2
    } else if m.hosts.is_empty() {
        0
    } else {
        1
    };
    let conditions = usize::from(!m.methods.is_empty()) + m.headers.len() + m.query.len();
    (route.priority, path_kind, prefix_len, host_kind, conditions)
}

fn admin(c: &mut Checker) -> Option<Admin> {
    let file = c.doc.admin.as_ref()?;
    let text = file.address.as_deref().unwrap_or("127.0.0.1:9900");
    match text.parse::<SocketAddr>() {
        Ok(address) => Some(Admin {
            address,
            metrics: file.metrics.unwrap_or(true),
        }),
        Err(_) => {
            c.error(
                &ConfigPath::default().key("admin").key("address"),
                format!("invalid address {text:?}; expected ip:port"),
            );
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn target_addresses() {
        for good in [
            "a.internal:80",
            "127.0.0.1:9101",
            "[fd00::1]:8080",
            "localhost:1",
        ] {
            assert!(valid_host_port(good), "{good}");
        }
        for bad in [
            "a.internal",
            ":80",
            "a:0",
            "a:65536",
            "a:http",
            "fd00::1",
            "[fd00::1]",
            "[nope]:80",
            "http://a:80",
            "a b:80",
        ] {
            assert!(!valid_host_port(bad), "{bad}");
        }
    }

    #[test]
    fn hosts() {
        assert_eq!(
            host_match("API.Example.com"),
            Some(HostMatch::Exact("api.example.com".into()))
        );
        assert_eq!(
            host_match("*.example.com"),
            Some(HostMatch::WildcardSuffix(".example.com".into()))
        );
        for bad in [
            "", "*", "*.", "a.*.b", "*a.b", "a..b", ".a", "a.b:80", "a_b.c",
        ] {
            assert_eq!(host_match(bad), None, "{bad}");
        }
    }

    #[test]
    fn tokens() {
        assert!(is_token("GET"));
        assert!(is_token("x-custom_header.1"));
        assert!(!is_token(""));
        assert!(!is_token("BAD METHOD"));
        assert!(!is_token("x:y"));
    }

    #[test]
    fn status_ranges() {
        assert_eq!(parse_status_range("200-399"), Some((200, 399)));
        assert_eq!(parse_status_range("204"), Some((204, 204)));
        assert_eq!(parse_status_range(" 200 - 299 "), Some((200, 299)));
        for bad in ["399-200", "99", "600", "2xx", "200-", ""] {
            assert_eq!(parse_status_range(bad), None, "{bad}");
        }
    }

    #[test]
    fn networks() {
        assert_eq!(parse_net("10.0.0.0/8"), "10.0.0.0/8".parse().ok());
        assert_eq!(parse_net("127.0.0.1"), "127.0.0.1/32".parse().ok());
        assert_eq!(parse_net("::1"), "::1/128".parse().ok());
        assert_eq!(parse_net("10.0.0.0/33"), None);
        assert_eq!(parse_net("localhost"), None);
    }
}
