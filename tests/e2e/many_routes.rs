//! Ten thousand routes (a mix of host and path routes): each request reaches
//! the route the evaluation order picks, near misses are 404s, and the whole
//! set reloads. The reload's duration is printed; the benchmark
//! `route_scale` measures it against its target.

use std::time::Instant;

use weir_tests::many_routes::{
    self, MixRequest, last_reload_seconds, last_request, mix_request, routed_host,
};
use weir_tests::{Gateway, Upstream, admin_config, free_port, wait_admin};

const ROUTES: usize = 10_000;

fn miss(host: &str, path: &str, header: Option<(&str, &str)>) -> MixRequest {
    MixRequest {
        host: host.to_owned(),
        path: path.to_owned(),
        header: header.map(|(n, v)| (n.to_owned(), v.to_owned())),
        routed_host: String::new(),
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn ten_thousand_routes_are_each_found_and_reload_as_one() {
    let up = Upstream::start("app").await;
    let (port, admin) = (free_port(), free_port());
    let gw = Gateway::start_on(many_routes::config(port, admin, &up, ROUTES, 0), port);

    // Every kind of the mix, at its start, middle and end.
    for i in (0..5).chain(5000..5005).chain(ROUTES - 6..ROUTES - 1) {
        let req = mix_request(i);
        assert_eq!(
            routed_host(port, &req).await,
            Ok(req.routed_host),
            "route r{i}"
        );
    }
    let last = last_request(0);
    assert_eq!(routed_host(port, &last).await, Ok(last.routed_host));
    for near_miss in [
        // Not a whole segment of `/svc0`.
        miss("any.test", "/svc0x", None),
        // `*.w3.example.com` needs a label in front.
        miss("w3.example.com", "/w/x", None),
        // r4 also needs its header.
        miss("api.example.com", "/v4/x", None),
        miss("api.example.com", "/v4/x", Some(("x-tenant", "t9"))),
        // r1's path under a host no route names.
        miss("h7.example.com", "/api/x", None),
    ] {
        assert_eq!(
            routed_host(port, &near_miss).await,
            Err(404),
            "{} {}",
            near_miss.host,
            near_miss.path
        );
    }

    let before = admin_config(admin).await["generation"].as_u64().unwrap();
    let started = Instant::now();
    gw.replace_config(&many_routes::config(port, admin, &up, ROUTES, 1));
    let status = wait_admin(admin, "the new generation", |s| {
        s["generation"].as_u64() > Some(before)
    })
    .await;
    let seen_after = started.elapsed();
    assert_eq!(status["routes"], ROUTES, "{status}");
    assert!(status["last_failure"].is_null(), "{status}");
    let last = last_request(1);
    assert_eq!(routed_host(port, &last).await, Ok(last.routed_host));
    let reload = last_reload_seconds(admin).await;
    println!(
        "{ROUTES} routes reloaded: new generation seen {:.0} ms after the file was in place \
         (with the watcher's debounce); the reload itself took {:.0} ms",
        seen_after.as_secs_f64() * 1e3,
        reload * 1e3
    );
}
