//! The cost of calling into a filter: one warm call per phase of the no-op
//! Rust filter (`filters/testing/test-noop`), a header-editing call, taking
//! a warm instance from the pool, and a fresh instance (`isolation:
//! per-request`). Run with `cargo bench -p weir-wasm` after
//! `scripts/build-filters.sh`; figures are in `docs/filters.md`.

use std::hint::black_box;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use weir_wasm::{
    ContextBag, FilterLimits, FilterSpec, HostOptions, Isolation, LoadedFilter, LogInfo, OnError,
    RequestView, ResponseView, WasmHost,
};

fn module(file: &str) -> PathBuf {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../filters/target/wasm32-wasip2/release")
        .join(file);
    assert!(
        path.exists(),
        "{} is missing: run scripts/build-filters.sh first",
        path.display()
    );
    path
}

fn load(host: &WasmHost, file: &str, config: &str, isolation: Isolation) -> Arc<LoadedFilter> {
    host.load_filter(FilterSpec {
        name: file.to_owned(),
        module: module(file),
        config_json: config.to_owned(),
        limits: FilterLimits {
            call_deadline: Duration::from_millis(100),
            memory_bytes: 64 << 20,
            max_body_bytes: 1 << 20,
            recycle_after: u32::MAX,
            max_idle_instances: 16,
        },
        on_error: OnError::FailClosed,
        isolation,
    })
    .expect("filter loads")
}

fn request() -> RequestView {
    let mut headers = http::HeaderMap::new();
    headers.insert("host", "api.example.com".parse().unwrap());
    headers.insert("user-agent", "bench/1.0".parse().unwrap());
    headers.insert("accept", "application/json".parse().unwrap());
    RequestView {
        method: "GET".into(),
        path: "/api/users/42".into(),
        query: Some("verbose=1".into()),
        headers,
        client_ip: "127.0.0.1".into(),
        request_id: "bench".into(),
        ..RequestView::default()
    }
}

fn response() -> ResponseView {
    let mut headers = http::HeaderMap::new();
    headers.insert("content-type", "application/json".parse().unwrap());
    ResponseView {
        status: 200,
        headers,
        ..ResponseView::default()
    }
}

fn warm_calls(c: &mut Criterion) {
    let host = WasmHost::new(HostOptions::default()).expect("engine");
    let noop = load(&host, "test_noop.wasm", "null", Isolation::Pooled);
    let mut instance = noop.checkout().expect("instance");
    let (mut req, mut resp, mut ctx) = (request(), response(), ContextBag::new());
    let body = vec![b'x'; 1024];
    let info = LogInfo {
        status: 200,
        ..LogInfo::default()
    };

    let mut group = c.benchmark_group("warm_call_noop");
    group.bench_function("request_headers", |b| {
        b.iter(|| instance.on_request_headers(&mut req, &mut ctx).unwrap())
    });
    group.bench_function("request_body_1KiB", |b| {
        b.iter(|| {
            instance
                .on_request_body(&mut req, &mut ctx, black_box(&body))
                .unwrap()
        })
    });
    group.bench_function("response_headers", |b| {
        b.iter(|| {
            instance
                .on_response_headers(&mut req, &mut resp, &mut ctx)
                .unwrap()
        })
    });
    group.bench_function("response_body_1KiB", |b| {
        b.iter(|| {
            instance
                .on_response_body(&mut req, &mut resp, &mut ctx, black_box(&body))
                .unwrap()
        })
    });
    group.bench_function("log", |b| {
        b.iter(|| {
            instance
                .on_log(&mut req, &mut resp, &mut ctx, &info)
                .unwrap()
        })
    });
    group.finish();

    // A call that does work through the host: append one request header.
    let tag = load(
        &host,
        "test_tag.wasm",
        r#"{"name":"bench"}"#,
        Isolation::Pooled,
    );
    let mut instance = tag.checkout().expect("instance");
    c.bench_function("warm_call_tag/request_headers_append", |b| {
        b.iter(|| {
            let mut req = request();
            instance.on_request_headers(&mut req, &mut ctx).unwrap()
        })
    });
}

fn instances(c: &mut Criterion) {
    let host = WasmHost::new(HostOptions::default()).expect("engine");
    let (mut req, mut ctx) = (request(), ContextBag::new());

    let pooled = load(&host, "test_noop.wasm", "null", Isolation::Pooled);
    c.bench_function("instance/pooled_checkout_and_call", |b| {
        b.iter(|| {
            let mut instance = pooled.checkout().unwrap();
            instance.on_request_headers(&mut req, &mut ctx).unwrap()
        })
    });

    let fresh = load(&host, "test_noop.wasm", "null", Isolation::PerRequest);
    c.bench_function("instance/fresh_instantiate_init_and_call", |b| {
        b.iter(|| {
            let mut instance = fresh.checkout().unwrap();
            instance.on_request_headers(&mut req, &mut ctx).unwrap()
        })
    });
}

criterion_group!(benches, warm_calls, instances);
criterion_main!(benches);
