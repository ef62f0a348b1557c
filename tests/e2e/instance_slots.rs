//! `server.max_filter_instances`: when every filter instance slot is taken,
//! the filter that needs one more is refused (its `on_error` applies) and
//! the gateway goes on serving; the slots come back as requests end.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio::sync::watch;
use weir_tests::{Gateway, client, filters, free_port, metrics_text, wait_until};

use crate::config;

/// An upstream that reads each request and answers it only once released,
/// so requests stay in flight, holding their filter instances, for as long
/// as the test needs.
struct HeldUpstream {
    address: String,
    arrived: Arc<AtomicUsize>,
    release: watch::Sender<bool>,
}

impl HeldUpstream {
    async fn start() -> HeldUpstream {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap().to_string();
        let arrived = Arc::new(AtomicUsize::new(0));
        let (release, released) = watch::channel(false);
        let counter = arrived.clone();
        tokio::spawn(async move {
            while let Ok((mut stream, _)) = listener.accept().await {
                let counter = counter.clone();
                let mut released = released.clone();
                tokio::spawn(async move {
                    let mut request = Vec::new();
                    let mut buf = [0; 4096];
                    while !request.windows(4).any(|w| w == b"\r\n\r\n") {
                        match stream.read(&mut buf).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => request.extend_from_slice(&buf[..n]),
                        }
                    }
                    counter.fetch_add(1, Ordering::SeqCst);
                    if released.wait_for(|r| *r).await.is_ok() {
                        let _ = stream
                            .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 4\r\n\r\nheld")
                            .await;
                    }
                });
            }
        });
        HeldUpstream {
            address,
            arrived,
            release,
        }
    }
}

/// The value of the unlabelled series `name`.
async fn scrape(admin_port: u16, name: &str) -> Option<f64> {
    let text = metrics_text(admin_port).await;
    text.lines()
        .find(|line| line.split([' ', '{']).next() == Some(name))
        .and_then(|line| line.rsplit(' ').next()?.parse().ok())
}

#[tokio::test(flavor = "multi_thread")]
async fn when_every_instance_slot_is_taken_the_filter_is_refused_not_the_gateway() {
    let held = HeldUpstream::start().await;
    let admin_port = free_port();
    // One filter that keeps its instance from the request to the response;
    // two slots: the one its load left idle, and one more.
    let yaml = config(&format!(
        "upstreams:\n  held:\n    targets: [{{ address: {} }}]\nfilters:\n  both:\n    module: {}\n    config: {{ phases: [request-headers, response-headers] }}\n\
         routes:\n  - match: {{ path: {{ prefix: /held }} }}\n    upstream: held\n    filters: [both]\n  - match: {{ path: {{ prefix: / }} }}\n    respond: {{ status: 204 }}\n\
         admin:\n  address: 127.0.0.1:{admin_port}\n",
        held.address,
        filters::TEST_NOOP
    ))
    .replacen("server:\n", "server:\n  max_filter_instances: 2\n", 1);
    let gw = Gateway::start(&yaml);
    assert_eq!(
        scrape(admin_port, "weir_filter_instance_slots").await,
        Some(2.0)
    );

    let holding: Vec<_> = (0..2)
        .map(|_| tokio::spawn(client().get(gw.url("/held")).send()))
        .collect();
    wait_until(
        Duration::from_secs(10),
        "two requests held upstream",
        || held.arrived.load(Ordering::SeqCst) == 2,
    );
    assert_eq!(
        scrape(admin_port, "weir_filter_instance_slots_in_use").await,
        Some(2.0)
    );

    // A third request needs a third instance: the filter (fail-closed) is
    // not run, and the request gets its 503 at once, not a hang.
    let refused = client().get(gw.url("/held")).send().await.unwrap();
    assert_eq!(refused.status(), 503);
    assert_eq!(
        held.arrived.load(Ordering::SeqCst),
        2,
        "it never went upstream"
    );
    let metrics = metrics_text(admin_port).await;
    assert!(
        metrics.contains(
            "weir_filter_failures_total{filter=\"both\",kind=\"no_instance_slot\",phase=\"request_headers\"} 1"
        ),
        "{metrics}"
    );
    // Routes without filters are untouched.
    let other = client().get(gw.url("/other")).send().await.unwrap();
    assert_eq!(other.status(), 204);

    held.release.send(true).unwrap();
    for request in holding {
        let response = request.await.unwrap().unwrap();
        assert_eq!(response.status(), 200);
        assert_eq!(response.text().await.unwrap(), "held");
    }
    // The two instances went back to the filter's pool: the next request
    // takes one of them.
    let after = client().get(gw.url("/held")).send().await.unwrap();
    assert_eq!(after.status(), 200);
    assert!(
        gw.logs().contains("the filter instance pool is full"),
        "the refusal is logged with its reason:\n{}",
        gw.logs()
    );
}
