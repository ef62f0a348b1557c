//! The demo's upstream: `demo-upstream [ADDR]` serves the test upstream's
//! routes (a JSON echo of each request, `/healthz`, `/ws`, ...) until killed.

#[tokio::main]
async fn main() {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:9001".into());
    let upstream = weir_tests::Upstream::start_at("demo", &addr).await;
    eprintln!("demo upstream listening on http://{}", upstream.address());
    let _ = tokio::signal::ctrl_c().await;
}
