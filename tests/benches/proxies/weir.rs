//! weir's configs for each workload: one listener on 1 thread, upstream
//! `app`; the filters and routes each workload needs.

use weir_tests::{Upstream, filters, workspace_root};

use crate::w2;

fn base(port: u16, up: &Upstream, rest: &str) -> String {
    format!(
        "server:\n  threads: 1\n  work_stealing: {work_stealing}\n  cache_dir: {cache}\nlisteners:\n  - name: main\n    address: 127.0.0.1:{port}\n\
         upstreams:\n  app:\n    targets: [{{ address: {up} }}]\n{rest}",
        cache = workspace_root()
            .join("target/weir-bench-filter-cache")
            .display(),
        up = up.address(),
        work_stealing = crate::work_stealing(),
    )
}

const ROUTE_ALL: &str =
    "routes:\n  - name: all\n    match: { path: { prefix: / } }\n    upstream: app\n";

/// W1: one route, no filters, no admin endpoint, no access log.
pub fn plain(port: u16, up: &Upstream) -> String {
    base(port, up, ROUTE_ALL)
}

/// W1 with what a deployment usually has on: Prometheus metrics (admin
/// endpoint) and the access log (JSON, every field, to a file).
pub fn observed(port: u16, admin: u16, up: &Upstream) -> String {
    base(
        port,
        up,
        &format!(
            "{ROUTE_ALL}admin:\n  address: 127.0.0.1:{admin}\naccess_log:\n  format: json\n  path: access.log\n"
        ),
    )
}

/// W5: W1 with an admin endpoint and a second route that changes with
/// `generation`, so that every reload has something to apply.
pub fn reloading(port: u16, admin: u16, up: &Upstream, generation: u64) -> String {
    base(
        port,
        up,
        &format!(
            "{ROUTE_ALL}  - name: generation\n    match: {{ path: {{ exact: /generation/{generation} }} }}\n    \
             upstream: app\nadmin:\n  address: 127.0.0.1:{admin}\n"
        ),
    )
}

/// The last filters of the W2/W3 chain, after jwt-auth and rate-limit.
pub enum Tail {
    /// W2: the built-in `headers` (request `x-user-id` from the token's
    /// subject, response `x-served-by: weir`).
    Headers,
    /// W3: the reference filter (filters/reference) built from JavaScript,
    /// then from Python, in place of `headers`; a call deadline of 1 s, not
    /// 100 ms, so that a new instance's first calls on a busy machine count
    /// as slow rather than failed.
    Languages {
        js: &'static str,
        python: &'static str,
    },
}

/// W2/W3: one route behind jwt-auth (HS256) + rate-limit (memory store, a
/// limit the bench never reaches) + the tail. The config builtin_chain
/// measures.
pub fn chain(port: u16, up: &Upstream, tail: &Tail) -> String {
    let (tail_filters, names) = match tail {
        Tail::Headers => (
            format!(
                "  tag:\n    module: {}\n    config:\n      request: {{ set: {{ x-user-id: \"${{ctx.sub}}\" }} }}\n      \
                 response: {{ set: {{ x-served-by: weir }} }}\n",
                filters::HEADERS
            ),
            "auth, limit, tag",
        ),
        Tail::Languages { js, python } => (
            format!(
                "  ref-js:\n    module: {js}\n    config: {{ store: counters }}\n    grants: {{ key_value: [counters] }}\n    \
                 limits: {{ call_deadline: 1s }}\n\
                 \x20 ref-python:\n    module: {python}\n    config: {{ store: counters }}\n    grants: {{ key_value: [counters] }}\n    \
                 limits: {{ call_deadline: 1s }}\n",
            ),
            "auth, limit, ref-js, ref-python",
        ),
    };
    base(
        port,
        up,
        &format!(
            "{sections}  counters:\n    memory: {{}}\nfilters:\n{filters}{tail_filters}routes:\n  - name: chain\n    \
             match: {{ path: {{ prefix: / }} }}\n    upstream: app\n    filters: [{names}]\n",
            sections = w2::sections(),
            filters = w2::auth_and_limit(),
        ),
    )
}

/// The edits W4's json-transform makes to the 10 KB response body.
pub const TRANSFORM: &str = "response:\n        remove: [/debug]\n        redact: [/user/email]\n        \
                             rename: { /user/id: /user/user_id }\n        add: { /meta/served_by: weir }\n      \
                             create_parents: true";

/// W4: `/t/...` through json-transform (prefix stripped), anything else
/// straight through.
pub fn transform(port: u16, up: &Upstream) -> String {
    base(
        port,
        up,
        &format!(
            "filters:\n  json:\n    module: {}\n    config:\n      {TRANSFORM}\n\
             routes:\n  - name: transformed\n    match: {{ path: {{ prefix: /t }} }}\n    upstream: app\n    \
             strip_prefix: true\n    filters: [json]\n  - name: all\n    match: {{ path: {{ prefix: / }} }}\n    upstream: app\n",
            filters::JSON_TRANSFORM
        ),
    )
}

/// W6: weir_tests::many_routes's config (the routing tests' mix), with the
/// last route stripping its `/last` prefix so that its request reaches the
/// upstream's fixed-size answer like every other workload's.
pub fn many_routes(port: u16, admin: u16, up: &Upstream, routes: usize) -> String {
    let config = weir_tests::many_routes::config(port, admin, up, routes, 0);
    let last = format!(
        "    host_rewrite: {}\n",
        weir_tests::many_routes::last_routed_host(0)
    );
    assert!(
        config.ends_with(&last),
        "the last route comes last in the file"
    );
    format!("{config}    strip_prefix: true\n")
}

/// W7: `handlers` (name, module) each answering its own prefix `/<name>`,
/// with an admin endpoint (Prometheus metrics, for the handlers' answer
/// histogram) when `admin` is given.
pub fn handlers(port: u16, admin: Option<u16>, up: &Upstream, handlers: &[(&str, &str)]) -> String {
    let mut rest = String::from("handlers:\n");
    for (name, module) in handlers {
        rest.push_str(&format!("  {name}:\n    module: {module}\n"));
    }
    rest.push_str("routes:\n");
    for (name, _) in handlers {
        rest.push_str(&format!(
            "  - name: {name}\n    match: {{ path: {{ prefix: /{name} }} }}\n    handler: {name}\n"
        ));
    }
    if let Some(admin) = admin {
        rest.push_str(&format!("admin:\n  address: 127.0.0.1:{admin}\n"));
    }
    base(port, up, &rest)
}

/// The JavaScript and Python reference filters, or why W3 cannot run: they
/// were not built (scripts/build-language-filters.sh) when this benchmark
/// was compiled.
pub fn language_filters() -> Result<Tail, String> {
    let built = |name: &str| {
        filters::optional_language_filter(name).ok_or_else(|| {
            format!(
                "{name} was not built when this benchmark was compiled \
                 (scripts/build-language-filters.sh, then build again)"
            )
        })
    };
    Ok(Tail::Languages {
        js: built("reference-js")?,
        python: built("reference-python")?,
    })
}
