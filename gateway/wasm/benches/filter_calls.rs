//! The cost of calling into a filter: one warm call per phase of the no-op
//! Rust filter (`filters/testing/test-noop`), a header-editing call, taking
//! a warm instance from the pool, and a fresh instance (`isolation:
//! per-request`). Calls are async (wasmtime's fiber-based async API): each
//! measurement awaits its calls inside one task on a current-thread Tokio
//! runtime, as a request's task does, so it counts the call and not the
//! runtime's entry. Run with `cargo bench -p weir-wasm` after
//! `scripts/build-filters.sh`; figures are in `docs/filters.md`.

use std::hint::black_box;
use std::sync::Arc;

mod common;

use common::{iter_async, runtime};
use criterion::{Criterion, criterion_group, criterion_main};
use weir_wasm::{
    Capabilities, ContextBag, HostOptions, Isolation, LoadedFilter, LogInfo, RequestView,
    ResponseView, WasmHost,
};

fn load(host: &WasmHost, file: &str, config: &str, isolation: Isolation) -> Arc<LoadedFilter> {
    common::load(host, file, config, isolation, Capabilities::default())
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
    let rt = runtime();
    let noop = load(&host, "test_noop.wasm", "null", Isolation::Pooled);
    let mut instance = rt.block_on(noop.checkout()).expect("instance");
    let (mut req, mut resp, mut ctx) = (request(), response(), ContextBag::new());
    let body = vec![b'x'; 1024];
    let info = LogInfo {
        status: 200,
        ..LogInfo::default()
    };

    let mut group = c.benchmark_group("warm_call_noop");
    group.bench_function("request_headers", |b| {
        iter_async(b, &rt, async || {
            instance
                .on_request_headers(&mut req, &mut ctx)
                .await
                .unwrap();
        })
    });
    group.bench_function("request_body_1KiB", |b| {
        iter_async(b, &rt, async || {
            instance
                .on_request_body(&mut req, &mut ctx, black_box(&body))
                .await
                .unwrap();
        })
    });
    group.bench_function("response_headers", |b| {
        iter_async(b, &rt, async || {
            instance
                .on_response_headers(&mut req, &mut resp, &mut ctx)
                .await
                .unwrap();
        })
    });
    group.bench_function("response_body_1KiB", |b| {
        iter_async(b, &rt, async || {
            instance
                .on_response_body(&mut req, &mut resp, &mut ctx, black_box(&body))
                .await
                .unwrap();
        })
    });
    group.bench_function("log", |b| {
        iter_async(b, &rt, async || {
            instance
                .on_log(&mut req, &mut resp, &mut ctx, &info)
                .await
                .unwrap();
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
    let mut instance = rt.block_on(tag.checkout()).expect("instance");
    c.bench_function("warm_call_tag/request_headers_append", |b| {
        iter_async(b, &rt, async || {
            let mut req = request();
            instance
                .on_request_headers(&mut req, &mut ctx)
                .await
                .unwrap();
        })
    });
}

fn instances(c: &mut Criterion) {
    let host = WasmHost::new(HostOptions::default()).expect("engine");
    let rt = runtime();
    let (mut req, mut ctx) = (request(), ContextBag::new());

    let pooled = load(&host, "test_noop.wasm", "null", Isolation::Pooled);
    c.bench_function("instance/pooled_checkout_and_call", |b| {
        iter_async(b, &rt, async || {
            let mut instance = pooled.checkout().await.unwrap();
            instance
                .on_request_headers(&mut req, &mut ctx)
                .await
                .unwrap();
        })
    });

    let fresh = load(&host, "test_noop.wasm", "null", Isolation::PerRequest);
    c.bench_function("instance/fresh_instantiate_init_and_call", |b| {
        iter_async(b, &rt, async || {
            let mut instance = fresh.checkout().await.unwrap();
            instance
                .on_request_headers(&mut req, &mut ctx)
                .await
                .unwrap();
        })
    });
}

criterion_group!(benches, warm_calls, instances);
criterion_main!(benches);
