//! What a filter costs per language: the reference filter
//! (`filters/reference/README.md`) built from each language, measured through
//! weir's host. Prints one table: component size, build time (when given),
//! first load (compile), start with the compiled-artifact cache, a warm
//! `on-request-headers` call and a fresh instance (instantiate, `init`, call).
//!
//! `scripts/bench-languages.sh` builds the components, times the builds and
//! runs this. By hand, after the builds:
//!
//! ```sh
//! cargo test -p weir-wasm --bench filter_languages -- --bench \
//!     rust=filters/target/wasm32-wasip2/release/reference_rust.wasm js=path/to/x.wasm:8.2
//! ```
//!
//! Each argument is `LANGUAGE=COMPONENT[:BUILD_SECONDS]`; without any, the
//! reference builds in `filters/target` are measured. Every component gets the
//! reference filter's config (`{"store": "counters"}`, a memory store).

mod common;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use weir_wasm::{
    Capabilities, Exchange, HostOptions, Isolation, LoadedFilter, PhaseCall, RequestView, WasmHost,
};

struct Subject {
    lang: String,
    module: PathBuf,
    build_secs: Option<f64>,
}

fn main() {
    let subjects = subjects();
    let cache = std::env::temp_dir().join(format!("weir-bench-languages-{}", std::process::id()));
    println!(
        "| language | component | build | first load (compile) | start with cache | warm call | fresh instance + call |"
    );
    println!("|---|---|---|---|---|---|---|");
    for subject in &subjects {
        let row = measure(subject, &cache);
        println!("{row}");
    }
    let _ = std::fs::remove_dir_all(&cache);
}

fn subjects() -> Vec<Subject> {
    let given: Vec<Subject> = std::env::args()
        .skip(1)
        .filter(|arg| !arg.starts_with("--"))
        .map(|arg| {
            let (lang, rest) = arg
                .split_once('=')
                .expect("arguments are LANGUAGE=COMPONENT[:BUILD_SECONDS]");
            let (module, build_secs) = match rest.rsplit_once(':') {
                Some((module, secs)) => (module, Some(secs.parse().expect("build seconds"))),
                None => (rest, None),
            };
            Subject {
                lang: lang.to_owned(),
                module: module.into(),
                build_secs,
            }
        })
        .collect();
    if !given.is_empty() {
        return given;
    }
    let filters = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../filters/target");
    [
        ("rust", "wasm32-wasip2/release/reference_rust.wasm"),
        ("js", "languages/reference-js.wasm"),
        ("python", "languages/reference-python.wasm"),
        ("c", "languages/reference-c.wasm"),
        ("go", "languages/reference-go.wasm"),
    ]
    .into_iter()
    .map(|(lang, file)| Subject {
        lang: lang.to_owned(),
        module: filters.join(file),
        build_secs: None,
    })
    .collect()
}

fn measure(subject: &Subject, cache: &Path) -> String {
    assert!(
        subject.module.exists(),
        "{} is missing: run scripts/build-filters.sh and scripts/build-language-filters.sh",
        subject.module.display()
    );
    let size = std::fs::metadata(&subject.module).expect("component").len();
    let cache_dir = cache.join(&subject.lang);

    // A host with an empty cache compiles; a second host (a restarted weir)
    // finds the artifact on disk.
    let cold = host(&cache_dir);
    let started = Instant::now();
    drop(load(&cold, subject, Isolation::Pooled));
    let first_load = started.elapsed();
    drop(cold);

    let host = host(&cache_dir);
    let started = Instant::now();
    let pooled = load(&host, subject, Isolation::Pooled);
    let cached_start = started.elapsed();

    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let mut instance = rt.block_on(pooled.checkout()).expect("instance");
    let warm = median_per_call(|| {
        let mut req = Exchange::new(request());
        rt.block_on(instance.call(&mut req, PhaseCall::RequestHeaders))
            .expect("warm call");
    });

    let fresh_filter = load(&host, subject, Isolation::PerRequest);
    let fresh = median_per_call(|| {
        let mut req = Exchange::new(request());
        rt.block_on(async {
            let mut instance = fresh_filter.checkout().await.expect("fresh instance");
            instance
                .call(&mut req, PhaseCall::RequestHeaders)
                .await
                .expect("fresh call");
        })
    });

    format!(
        "| {} | {} | {} | {} | {} | {} | {} |",
        subject.lang,
        bytes(size),
        subject
            .build_secs
            .map(|s| format!("{s:.1} s"))
            .unwrap_or_else(|| "-".into()),
        duration(first_load),
        duration(cached_start),
        duration(warm),
        duration(fresh),
    )
}

fn host(cache_dir: &Path) -> WasmHost {
    WasmHost::new(HostOptions {
        cache_dir: Some(cache_dir.to_owned()),
        ..HostOptions::default()
    })
    .expect("engine")
}

fn load(host: &WasmHost, subject: &Subject, isolation: Isolation) -> Arc<LoadedFilter> {
    let store = weir_kv::Store::memory(10_000);
    let mut spec = common::spec(
        &format!("reference-{}", subject.lang),
        subject.module.clone(),
        r#"{"store":"counters"}"#,
        isolation,
        Capabilities {
            key_value: Some([("counters".to_owned(), store)].into()),
            ..Capabilities::default()
        },
    );
    // JS and Python instances take longer to start than the common 1 s allows.
    spec.limits.call_deadline = Duration::from_secs(5);
    host.block_on(host.load_filter(spec, None))
        .expect("the reference filter loads")
}

/// The reference filter's counting path: a header read, a header set, two
/// context values and a key-value increment.
fn request() -> RequestView {
    let mut headers = http::HeaderMap::new();
    headers.insert("host", "api.example.com".parse().unwrap());
    headers.insert("x-ref-name", "bench".parse().unwrap());
    RequestView {
        method: http::Method::GET,
        path: "/ref/hello".into(),
        headers,
        client_ip: Some(std::net::Ipv4Addr::LOCALHOST.into()),
        request_id: "bench".into(),
        ..RequestView::default()
    }
}

/// Median over 7 rounds of the time per call, each round calling for at
/// least 200 ms (and at least 5 calls), after one warm-up round.
fn median_per_call(mut call: impl FnMut()) -> Duration {
    let mut round = || {
        let started = Instant::now();
        let mut calls = 0u32;
        while calls < 5 || started.elapsed() < Duration::from_millis(200) {
            call();
            calls += 1;
        }
        started.elapsed() / calls
    };
    round();
    let mut rounds: Vec<Duration> = (0..7).map(|_| round()).collect();
    rounds.sort();
    rounds[rounds.len() / 2]
}

fn bytes(n: u64) -> String {
    if n >= 1 << 20 {
        format!("{:.1} MB", n as f64 / (1 << 20) as f64)
    } else {
        format!("{} KB", n.div_ceil(1024))
    }
}

fn duration(d: Duration) -> String {
    if d >= Duration::from_secs(1) {
        format!("{:.1} s", d.as_secs_f64())
    } else if d >= Duration::from_millis(1) {
        format!("{:.1} ms", d.as_secs_f64() * 1e3)
    } else {
        format!("{:.1} µs", d.as_secs_f64() * 1e6)
    }
}
