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
    Capabilities, Exchange, HostOptions, Isolation, LoadedFilter, LogInfo, PhaseCall, RequestView,
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
        method: http::Method::GET,
        path: "/api/users/42".into(),
        query: Some("verbose=1".into()),
        headers,
        client_ip: Some(std::net::Ipv4Addr::LOCALHOST.into()),
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
    let mut req = Exchange::new(request());
    req.response = response();
    let body = vec![b'x'; 1024];
    let info = LogInfo {
        status: 200,
        ..LogInfo::default()
    };

    let mut group = c.benchmark_group("warm_call_noop");
    group.bench_function("request_headers", |b| {
        iter_async(b, &rt, async || {
            instance
                .call(&mut req, PhaseCall::RequestHeaders)
                .await
                .unwrap();
        })
    });
    group.bench_function("request_body_1KiB", |b| {
        iter_async(b, &rt, async || {
            instance
                .call(&mut req, PhaseCall::RequestBody(black_box(&body)))
                .await
                .unwrap();
        })
    });
    group.bench_function("response_headers", |b| {
        iter_async(b, &rt, async || {
            instance
                .call(&mut req, PhaseCall::ResponseHeaders)
                .await
                .unwrap();
        })
    });
    group.bench_function("response_body_1KiB", |b| {
        iter_async(b, &rt, async || {
            instance
                .call(&mut req, PhaseCall::ResponseBody(black_box(&body)))
                .await
                .unwrap();
        })
    });
    group.bench_function("log", |b| {
        iter_async(b, &rt, async || {
            instance
                .call(&mut req, PhaseCall::Log(&info))
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
            let mut req = Exchange::new(request());
            instance
                .call(&mut req, PhaseCall::RequestHeaders)
                .await
                .unwrap();
        })
    });
}

fn instances(c: &mut Criterion) {
    let host = WasmHost::new(HostOptions::default()).expect("engine");
    let rt = runtime();
    let mut req = Exchange::new(request());

    let pooled = load(&host, "test_noop.wasm", "null", Isolation::Pooled);
    c.bench_function("instance/pooled_checkout_and_call", |b| {
        iter_async(b, &rt, async || {
            let mut instance = pooled.checkout().await.unwrap();
            instance
                .call(&mut req, PhaseCall::RequestHeaders)
                .await
                .unwrap();
        })
    });

    let fresh = load(&host, "test_noop.wasm", "null", Isolation::PerRequest);
    c.bench_function("instance/fresh_instantiate_init_and_call", |b| {
        iter_async(b, &rt, async || {
            let mut instance = fresh.checkout().await.unwrap();
            instance
                .call(&mut req, PhaseCall::RequestHeaders)
                .await
                .unwrap();
        })
    });
}

/// Under load a worker has many requests in flight, each holding its own
/// instance of each filter: calls go round a set of instances, whose memory
/// is then colder than one instance called again and again.
fn rotation(c: &mut Criterion) {
    let host = WasmHost::new(HostOptions::default()).expect("engine");
    let rt = runtime();
    let tag = load(
        &host,
        "test_tag.wasm",
        r#"{"name":"bench"}"#,
        Isolation::Pooled,
    );
    let mut group = c.benchmark_group("rotation_tag_request_headers_append");
    for live in [1usize, 50] {
        let mut instances: Vec<_> = (0..live)
            .map(|_| rt.block_on(tag.checkout()).expect("instance"))
            .collect();
        let mut next = 0;
        group.bench_function(format!("{live}_instances"), |b| {
            iter_async(b, &rt, async || {
                let mut req = Exchange::new(request());
                instances[next]
                    .call(&mut req, PhaseCall::RequestHeaders)
                    .await
                    .unwrap();
                next = (next + 1) % live;
            })
        });
    }
    group.finish();
}

criterion_group!(benches, warm_calls, instances, rotation);
criterion_main!(benches);
