//! Admin views: `GET /admin/upstreams` after known traffic and with a target
//! down; `GET /ready` and `GET /live`, and readiness while draining.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use weir_tests::{Gateway, Upstream, client, free_port, wait_until};

use crate::config;

async fn admin_get(port: u16, path: &str) -> (u16, serde_json::Value) {
    let resp = client()
        .get(format!("http://127.0.0.1:{port}{path}"))
        .send()
        .await
        .expect("admin answers");
    let status = resp.status().as_u16();
    (status, resp.json().await.expect("admin JSON"))
}

#[tokio::test(flavor = "multi_thread")]
async fn upstreams_view_shows_targets_health_and_in_flight() {
    let up = Upstream::start("live").await;
    // Nothing listens there: active checks mark it unhealthy.
    let down = format!("127.0.0.1:{}", free_port());
    let admin = free_port();
    let gw = Gateway::start(&config(&format!(
        "upstreams:\n  svc:\n    targets: [{{ address: {} }}, {{ address: {down}, weight: 3 }}]\n    health_check: {{ path: /healthz, interval: 50ms, timeout: 500ms, unhealthy_threshold: 1, healthy_threshold: 1 }}\n    retries: {{ count: 0 }}\n  other:\n    targets: [{{ address: {} }}]\nroutes:\n  - match: {{ path: {{ prefix: / }} }}\n    upstream: svc\nadmin:\n  address: 127.0.0.1:{admin}\n",
        up.address(),
        up.address()
    )));
    let view = {
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        loop {
            let (status, view) = admin_get(admin, "/admin/upstreams").await;
            assert_eq!(status, 200);
            if view["upstreams"]["svc"]["targets"][1]["healthy"] == false {
                break view;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "target never unhealthy: {view}"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    };
    let svc = &view["upstreams"]["svc"];
    assert_eq!(view["generation"], 1);
    assert_eq!(svc["available_targets"], 1, "{view}");
    assert_eq!(svc["health_check"], "/healthz");
    let targets = svc["targets"].as_array().unwrap();
    assert_eq!(targets[0]["address"], up.address().as_str());
    assert_eq!(targets[0]["healthy"], true);
    assert_eq!(targets[0]["available"], true);
    assert_eq!(targets[1]["address"], down.as_str());
    assert_eq!(targets[1]["weight"], 3);
    assert_eq!(targets[1]["available"], false);
    assert_eq!(view["upstreams"]["other"]["targets"][0]["in_flight"], 0);

    // A request held upstream shows as in flight on its target, then not.
    let hits = up.hits();
    let url = gw.url("/slow?ms=1500");
    let slow = tokio::spawn(async move { client().get(url).send().await.map(|r| r.status()) });
    wait_until(Duration::from_secs(10), "the slow request upstream", || {
        up.hits() > hits
    });
    let (_, during) = admin_get(admin, "/admin/upstreams").await;
    assert_eq!(
        during["upstreams"]["svc"]["targets"][0]["in_flight"], 1,
        "{during}"
    );
    assert_eq!(during["upstreams"]["svc"]["in_flight"], 1);
    assert_eq!(slow.await.unwrap().unwrap(), 200);
    let (_, after) = admin_get(admin, "/admin/upstreams").await;
    assert_eq!(
        after["upstreams"]["svc"]["targets"][0]["in_flight"], 0,
        "{after}"
    );
}

/// One request on a kept-alive connection: (status, body).
fn request(conn: &mut BufReader<TcpStream>, path: &str) -> (u16, String) {
    conn.get_mut()
        .write_all(format!("GET {path} HTTP/1.1\r\nHost: admin\r\n\r\n").as_bytes())
        .unwrap();
    let mut status_line = String::new();
    conn.read_line(&mut status_line).unwrap();
    let status = status_line.split(' ').nth(1).unwrap().parse().unwrap();
    let mut length = 0;
    loop {
        let mut line = String::new();
        conn.read_line(&mut line).unwrap();
        if line == "\r\n" {
            break;
        }
        if let Some((name, value)) = line.split_once(':')
            && name.eq_ignore_ascii_case("content-length")
        {
            length = value.trim().parse().unwrap();
        }
    }
    let mut body = vec![0; length];
    conn.read_exact(&mut body).unwrap();
    (status, String::from_utf8(body).unwrap())
}

#[tokio::test(flavor = "multi_thread")]
async fn ready_turns_503_while_draining_and_live_stays_200() {
    let up = Upstream::start("svc").await;
    let admin = free_port();
    let mut gw = Gateway::start(&config(&format!(
        "upstreams:\n  svc:\n    targets: [{{ address: {} }}]\nroutes:\n  - match: {{ path: {{ prefix: / }} }}\n    upstream: svc\nadmin:\n  address: 127.0.0.1:{admin}\n",
        up.address()
    )));
    let (status, ready) = admin_get(admin, "/ready").await;
    assert_eq!((status, &ready["ready"]), (200, &serde_json::json!(true)));
    assert_eq!(admin_get(admin, "/live").await.0, 200);

    // Once SIGTERM arrives the admin listener accepts no new connection: a
    // probe's kept-alive one shows what it then answers.
    let mut probe = BufReader::new(TcpStream::connect(("127.0.0.1", admin)).unwrap());
    assert_eq!(request(&mut probe, "/ready").0, 200);
    let url = gw.url("/slow?ms=2000");
    let slow = tokio::spawn(async move { client().get(url).send().await.map(|r| r.status()) });
    wait_until(Duration::from_secs(10), "the slow request upstream", || {
        up.hits() == 1
    });
    gw.terminate();
    wait_until(Duration::from_secs(10), "weir to start draining", || {
        gw.logs().contains("draining")
    });
    let (status, body) = request(&mut probe, "/ready");
    assert_eq!(status, 503, "{body}");
    let body: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(body["draining"], true);
    assert_eq!(body["in_flight"], 1, "{body}");
    assert_eq!(slow.await.unwrap().unwrap(), 200);
    let exit = tokio::task::block_in_place(|| gw.wait_exit(Duration::from_secs(20)));
    assert!(exit.success());
}
