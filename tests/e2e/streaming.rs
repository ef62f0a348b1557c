//! 100 MB streamed through in each direction while weir's resident memory
//! grows by a few MB, far from the body's size: bodies are never buffered
//! unless a filter asks.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use futures_util::StreamExt;
use weir_tests::{Gateway, Upstream, client};

use crate::config;

const TOTAL: u64 = 100 * 1024 * 1024;
/// Allowed growth of weir's RSS while 100 MB pass through: a body buffered
/// whole would take the full 100 MB. What does grow is the allocator's
/// pages in flight and not yet reused or returned, which rises with the
/// throughput: 4 to 10 MiB in ten runs of a build with debug assertions in
/// the dependencies, 6 to 14 MiB (16 once, under the full suite) without.
const MAX_GROWTH_KIB: u64 = 32 * 1024;

/// Samples weir's RSS every few ms while `work` runs; returns the peak growth.
async fn peak_growth<F: std::future::Future<Output = ()>>(gw: &Gateway, work: F) -> u64 {
    let pid = gw.pid();
    let baseline = gw.rss_kib();
    let peak = Arc::new(AtomicU64::new(baseline));
    let done = Arc::new(AtomicBool::new(false));
    let sampler = {
        let (peak, done) = (peak.clone(), done.clone());
        std::thread::spawn(move || {
            while !done.load(Ordering::Relaxed) {
                if let Some(rss) = rss_of(pid) {
                    peak.fetch_max(rss, Ordering::Relaxed);
                }
                std::thread::sleep(Duration::from_millis(5));
            }
        })
    };
    work.await;
    done.store(true, Ordering::Relaxed);
    sampler.join().unwrap();
    peak.load(Ordering::Relaxed) - baseline
}

fn rss_of(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}

async fn gateway() -> (Upstream, Gateway) {
    let up = Upstream::start("bulk").await;
    let gw = Gateway::start(&config(&format!(
        "upstreams:\n  bulk:\n    targets: [{{ address: {} }}]\nroutes:\n  - match: {{ path: {{ prefix: / }} }}\n    upstream: bulk\n",
        up.address()
    )));
    // Warm up connection pools and allocator arenas before the baseline.
    for _ in 0..3 {
        client()
            .get(gw.url("/download?bytes=1048576"))
            .send()
            .await
            .unwrap()
            .bytes()
            .await
            .unwrap();
    }
    (up, gw)
}

#[tokio::test(flavor = "multi_thread")]
async fn upload_of_100_mb_streams_through() {
    let (_up, gw) = gateway().await;
    let growth = peak_growth(&gw, async {
        let chunks = futures_util::stream::iter(0..(TOTAL / (64 * 1024)))
            .map(|_| Ok::<_, std::io::Error>(vec![b'u'; 64 * 1024]));
        let resp = client()
            .post(gw.url("/upload"))
            .body(reqwest::Body::wrap_stream(chunks))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 200);
        assert_eq!(
            resp.text().await.unwrap(),
            TOTAL.to_string(),
            "upstream received every byte"
        );
    })
    .await;
    eprintln!("peak RSS growth during a 100 MB upload: {growth} KiB");
    assert!(
        growth < MAX_GROWTH_KIB,
        "weir grew by {growth} KiB for a 100 MB upload"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn download_of_100_mb_streams_through() {
    let (_up, gw) = gateway().await;
    let growth = peak_growth(&gw, async {
        let resp = client()
            .get(gw.url(&format!("/download?bytes={TOTAL}")))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 200);
        let mut stream = resp.bytes_stream();
        let mut received = 0u64;
        while let Some(chunk) = stream.next().await {
            received += chunk.unwrap().len() as u64;
        }
        assert_eq!(received, TOTAL);
    })
    .await;
    eprintln!("peak RSS growth during a 100 MB download: {growth} KiB");
    assert!(
        growth < MAX_GROWTH_KIB,
        "weir grew by {growth} KiB for a 100 MB download"
    );
}
