//! From the file's items to the validated [`Config`]: defaults, value checks,
//! cross references and route order. Every problem is collected; a config
//! with any error is refused as a whole.

use std::collections::{BTreeMap, BTreeSet};
use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use std::time::Duration;

use ipnet::IpNet;
use regex::Regex;

use crate::error::ConfigError;
use crate::model::*;
use crate::parse::{ConfigPath, Document, error_at, line_of, node_at, to_json};
use crate::schema::*;

/// Collects errors with lines looked up in the document.
struct Checker<'a> {
    doc: &'a Document,
    base_dir: &'a Path,
    errors: Vec<ConfigError>,
}

impl Checker<'_> {
    fn error(&mut self, path: &ConfigPath, message: impl AsRef<str>) {
        let line = line_of(&self.doc.root, path);
        self.errors.push(error_at(path, line, message.as_ref()));
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
    };
    let server = server(&mut c);
    let listeners = listeners(&mut c);
    let upstreams: BTreeMap<String, Upstream> = doc
        .upstreams
        .iter()
        .filter_map(|(path, name, file)| {
            upstream(&mut c, path, name, file).map(|u| (name.clone(), u))
        })
        .collect();
    let filters: BTreeMap<String, Filter> = doc
        .filters
        .iter()
        .filter_map(|(path, name, file)| {
            filter(&mut c, path, name, file).map(|f| (name.clone(), f))
        })
        .collect();
    // References are checked against every name defined, even those whose
    // definition has errors, so one mistake is reported once.
    let upstream_names: BTreeSet<&str> = doc.upstreams.iter().map(|(_, n, _)| n.as_str()).collect();
    let filter_names: BTreeSet<&str> = doc.filters.iter().map(|(_, n, _)| n.as_str()).collect();
    for (i, name) in doc.global_filters.iter().enumerate() {
        if !filter_names.contains(name.as_str()) {
            c.error(
                &ConfigPath::default().key("global_filters").index(i),
                format!("unknown filter {name:?}"),
            );
        }
    }
    let mut routes = routes(&mut c, &upstream_names, &filter_names);
    routes.sort_by(|a, b| order_key(b).cmp(&order_key(a)).then(a.index.cmp(&b.index)));
    let admin = admin(&mut c);

    errors.append(&mut c.errors);
    if !errors.is_empty() {
        errors.sort_by_key(|e| e.line.unwrap_or(usize::MAX));
        return Err(errors);
    }
    Ok(Config {
        server,
        listeners,
        upstreams,
        filters,
        global_chain: doc.global_filters.clone(),
        routes,
        admin,
    })
}

fn server(c: &mut Checker) -> ServerSettings {
    let path = ConfigPath::default().key("server");
    let file = c.doc.server.as_ref();
    let threads = file
        .and_then(|s| s.threads)
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    if threads == 0 {
        c.error(&path.key("threads"), "threads must be at least 1");
    }
    ServerSettings {
        threads: threads.max(1),
        grace_period: file
            .and_then(|s| s.grace_period)
            .map_or(Duration::from_secs(5), |d| d.0),
        upstream_keepalive_pool_size: file
            .and_then(|s| s.upstream_keepalive_pool_size)
            .unwrap_or(128),
        cache_dir: file
            .and_then(|s| s.cache_dir.as_deref())
            .map(|d| c.resolve(d)),
    }
}

fn listeners(c: &mut Checker) -> Vec<Listener> {
    let listeners_path = ConfigPath::default().key("listeners");
    let listed = node_at(&c.doc.root, &listeners_path)
        .and_then(|n| n.as_sequence())
        .is_some_and(|s| !s.is_empty());
    if !listed && (!c.doc.listeners_present || c.doc.listeners.is_empty()) {
        c.error(&listeners_path, "at least one listener is required");
    }
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
        let tls = file.tls.as_ref().map(|tls| {
            if tls.certificates.is_empty() {
                c.error(
                    &path.key("tls").key("certificates"),
                    "at least one certificate is required",
                );
            }
            ListenerTls {
                certificates: tls
                    .certificates
                    .iter()
                    .map(|cert| Certificate {
                        server_names: cert
                            .server_names
                            .iter()
                            .map(|n| n.to_ascii_lowercase())
                            .collect(),
                        cert_path: c.resolve(&cert.cert),
                        key_path: c.resolve(&cert.key),
                    })
                    .collect(),
            }
        });
        let limits = file.limits.as_ref();
        let max_header_bytes = limits
            .and_then(|l| l.max_header_bytes)
            .map_or(64 * 1024, |s| s.0 as usize);
        if max_header_bytes == 0 {
            c.error(
                &path.key("limits").key("max_header_bytes"),
                "must be more than 0",
            );
        }
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
                http2: file.http2.unwrap_or(false),
                limits: RequestLimits {
                    max_header_bytes,
                    max_body_bytes: limits.and_then(|l| l.max_body_bytes).map(|s| s.0),
                },
                trusted_proxies,
            });
        }
    }
    out
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
            if weight == 0 {
                c.error(&target_path.key("weight"), "weight must be at least 1");
            }
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
        if unhealthy_threshold == 0 || healthy_threshold == 0 {
            c.error(&hc_path, "thresholds must be at least 1");
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
        if max_failures == 0 {
            c.error(
                &path.key("passive_health").key("max_failures"),
                "max_failures must be at least 1",
            );
        }
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
        if value.is_zero() {
            c.error(&path.key("timeouts").key(field), "must be more than 0");
        }
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

fn valid_host_port(address: &str) -> bool {
    match address.rsplit_once(':') {
        Some((host, port)) => {
            let host = host.trim_start_matches('[').trim_end_matches(']');
            !host.is_empty()
                && !host.contains(char::is_whitespace)
                && port.parse::<u16>().is_ok_and(|p| p > 0)
        }
        None => false,
    }
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
    };
    let limits_path = path.key("limits");
    if limits.call_deadline.is_zero() {
        c.error(&limits_path.key("call_deadline"), "must be more than 0");
    }
    if limits.memory_bytes < (1 << 20) {
        c.error(&limits_path.key("memory"), "must be at least 1MiB");
    }
    if limits.memory_bytes > (4 << 30) {
        c.error(&limits_path.key("memory"), "must be at most 4GiB");
    }
    if limits.recycle_after == 0 {
        c.error(&limits_path.key("recycle_after"), "must be at least 1");
    }
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
    })
}

fn routes(c: &mut Checker, upstreams: &BTreeSet<&str>, filters: &BTreeSet<&str>) -> Vec<Route> {
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
                if !upstreams.contains(upstream.as_str()) {
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
                    if http_name(header).is_none()
                        || value.bytes().any(|b| b == b'\r' || b == b'\n' || b == 0)
                    {
                        c.error(
                            &path.key("respond").key("headers").key(header),
                            "invalid header name or value",
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
            if !filters.contains(filter.as_str()) {
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
        let host = host.to_ascii_lowercase();
        let valid_label = |s: &str| {
            !s.is_empty()
                && s.chars()
                    .all(|ch| ch.is_ascii_alphanumeric() || ch == '-' || ch == '.')
        };
        match host.strip_prefix("*.") {
            Some(rest) if valid_label(rest) && !rest.contains('*') => hosts.push(HostMatch::WildcardSuffix(format!(".{rest}"))),
            None if valid_label(&host) => hosts.push(HostMatch::Exact(host)),
            _ => c.error(
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
        if upper.is_empty() || !upper.bytes().all(|b| b.is_ascii_alphabetic()) {
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
            let value = value_match(c, &path.key("query").index(i), q)?;
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

/// Lower-case header name if valid (RFC 9110 token characters).
fn http_name(name: &str) -> Option<String> {
    let valid = !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b));
    valid.then(|| name.to_ascii_lowercase())
}

fn compile_regex(c: &mut Checker, path: &ConfigPath, pattern: &str) -> Option<Regex> {
    Regex::new(pattern)
        .map_err(|e| c.error(path, format!("invalid regex: {}", one_line(&e.to_string()))))
        .ok()
}

fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Evaluation order, compared descending: priority, then specificity (see
/// docs/config.md): path kind, prefix length, host kind, number of conditions.
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
        Ok(address) => Some(Admin { address }),
        Err(_) => {
            c.error(
                &ConfigPath::default().key("admin").key("address"),
                format!("invalid address {text:?}; expected ip:port"),
            );
            None
        }
    }
}
