//! Hot reload: file changes, SIGHUP and the admin endpoint; refused configs
//! and filters never replace a good generation; a reload under load fails no
//! request; 200 reloads leak nothing.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use serde_json::Value;
use weir_tests::{
    Gateway, Upstream, admin_config, admin_reload, client, filters, free_port, replace_file,
    wait_admin,
};

use crate::config;

/// A gateway config with an admin listener on `admin_port`, one route to
/// `upstream` through a `tag` filter loaded from `module` and named `tag`.
fn tagged(
    admin_port: u16,
    upstream: &Upstream,
    module: &Path,
    tag: &str,
    extra_filters: &str,
) -> String {
    config(&format!(
        "upstreams:\n  svc:\n    targets: [{{ address: {} }}]\n\
         filters:\n  tag:\n    module: {}\n    config: {{ name: {tag} }}\n{extra_filters}\
         routes:\n  - match: {{ path: {{ prefix: / }} }}\n    upstream: svc\n    filters: [tag]\n\
         admin:\n  address: 127.0.0.1:{admin_port}\n",
        upstream.address(),
        module.display(),
    ))
}

/// (upstream name, tag the filter put on the response) for one request.
async fn served_by(gw: &Gateway) -> (String, String) {
    let resp = client().get(gw.url("/")).send().await.expect("request");
    assert_eq!(resp.status(), 200);
    let tag = resp.headers()["x-chain-resp"].to_str().unwrap().to_owned();
    let body: Value = resp.json().await.unwrap();
    (body["upstream"].as_str().unwrap().to_owned(), tag)
}

#[tokio::test(flavor = "multi_thread")]
async fn a_changed_file_is_served_and_a_broken_one_never_is() {
    let (a, b) = (Upstream::start("a").await, Upstream::start("b").await);
    let admin = free_port();
    let module = Path::new(filters::TEST_TAG);
    let gw = Gateway::start(&tagged(admin, &a, module, "one", ""));
    assert_eq!(served_by(&gw).await, ("a".into(), "one".into()));
    let first = admin_config(admin).await;
    assert_eq!(first["generation"], 1);
    assert!(first["last_failure"].is_null());

    let port = gw.port.to_string();
    gw.replace_config(&tagged(admin, &b, module, "two", "").replace("{port}", &port));
    let second = wait_admin(admin, "generation 2", |s| {
        s["generation"].as_u64() >= Some(2)
    })
    .await;
    assert_eq!(served_by(&gw).await, ("b".into(), "two".into()));
    assert_ne!(
        admin_config(admin).await["content_hash"],
        first["content_hash"]
    );

    // A config with errors: refused as a whole, every error reported with its
    // path and line, generation 2 keeps serving.
    let broken = tagged(admin, &a, module, "three", "")
        .replace("{port}", &port)
        .replace("upstream: svc", "upstream: nowhere")
        .replace("prefix: /", "prefix: no-slash");
    gw.replace_config(&broken);
    let status = wait_admin(admin, "the failed reload", |s| !s["last_failure"].is_null()).await;
    let errors = status["last_failure"]["errors"].as_array().unwrap();
    assert_eq!(errors.len(), 2, "{errors:?}");
    assert!(
        errors
            .iter()
            .any(|e| e.as_str().unwrap().contains("unknown upstream \"nowhere\"")),
        "{errors:?}"
    );
    assert!(
        errors
            .iter()
            .all(|e| e.as_str().unwrap().contains("(line ")),
        "{errors:?}"
    );
    assert_eq!(status["generation"], second["generation"]);
    assert_eq!(served_by(&gw).await, ("b".into(), "two".into()));
    assert!(
        gw.logs()
            .contains("reload failed; still serving the running config")
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_filter_that_rejects_its_config_keeps_the_running_generation() {
    let up = Upstream::start("svc").await;
    let admin = free_port();
    let module = Path::new(filters::TEST_TAG);
    let gw = Gateway::start(&tagged(admin, &up, module, "good", ""));
    let port = gw.port.to_string();
    let gate = format!(
        "  gate:\n    module: {}\n    config: {{ reject: \"gate refuses this config\" }}\n",
        filters::TEST_NOOP
    );
    gw.replace_config(&tagged(admin, &up, module, "bad", &gate).replace("{port}", &port));
    let status = wait_admin(admin, "the refused filter", |s| {
        !s["last_failure"].is_null()
    })
    .await;
    let errors = status["last_failure"]["errors"].to_string();
    assert!(
        errors.contains("filters.gate") && errors.contains("gate refuses this config"),
        "{errors}"
    );
    assert_eq!(status["generation"], 1);
    assert_eq!(served_by(&gw).await.1, "good");
}

#[tokio::test(flavor = "multi_thread")]
async fn sighup_and_the_admin_endpoint_reload() {
    let up = Upstream::start("svc").await;
    let admin = free_port();
    let gw = Gateway::start(&tagged(admin, &up, Path::new(filters::TEST_TAG), "t", ""));

    let kill = std::process::Command::new("kill")
        .args(["-HUP", &gw.pid().to_string()])
        .status()
        .expect("running kill");
    assert!(kill.success());
    wait_admin(admin, "the SIGHUP reload", |s| s["generation"] == 2).await;

    let (code, outcome) = admin_reload(admin).await;
    assert_eq!(code, 200, "{outcome}");
    assert_eq!(outcome["ok"], true);
    assert_eq!(outcome["generation"], 3);
    assert_eq!(outcome["trigger"], "admin");

    // The admin endpoint reports a refused reload with 422 and its errors.
    gw.replace_config("listeners: []\n");
    let (code, outcome) = admin_reload(admin).await;
    assert_eq!(code, 422, "{outcome}");
    assert_eq!(outcome["ok"], false);
    assert_eq!(outcome["generation"], 3);
    assert!(
        outcome["errors"].to_string().contains("listener"),
        "{outcome}"
    );
    assert_eq!(served_by(&gw).await.1, "t");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_rebuilt_wasm_module_is_reloaded_in_place() {
    let up = Upstream::start("svc").await;
    let admin = free_port();
    let dir = tempfile::tempdir().unwrap();
    let module = dir.path().join("filter.wasm");
    std::fs::copy(filters::TEST_TAG, &module).unwrap();
    let gw = Gateway::start(&tagged(admin, &up, &module, "t", ""));
    let before = admin_config(admin).await;

    // Same behaviour, different bytes: the component with a custom section
    // appended, as a rebuild with another toolchain version would produce.
    replace_file(
        &module,
        &with_custom_section(&std::fs::read(&module).unwrap(), "rebuild"),
    );
    let after = wait_admin(admin, "the module reload", |s| {
        s["generation"].as_u64() >= Some(2)
    })
    .await;
    assert_eq!(
        after["content_hash"], before["content_hash"],
        "the config file did not change"
    );
    assert!(
        gw.logs().contains("\"changed\":[\"tag\"]"),
        "the reload names the changed filter:\n{}",
        gw.logs()
    );
    assert_eq!(served_by(&gw).await.1, "t");
}

/// Appends a custom section (id 0) to a Wasm binary: a valid component with
/// different bytes and the same behaviour.
fn with_custom_section(wasm: &[u8], payload: &str) -> Vec<u8> {
    fn leb128(mut n: usize, out: &mut Vec<u8>) {
        loop {
            let byte = (n & 0x7f) as u8;
            n >>= 7;
            if n == 0 {
                out.push(byte);
                return;
            }
            out.push(byte | 0x80);
        }
    }
    let name = b"weir-test";
    let mut content = Vec::new();
    leb128(name.len(), &mut content);
    content.extend_from_slice(name);
    content.extend_from_slice(payload.as_bytes());
    let mut out = wasm.to_vec();
    out.push(0);
    leb128(content.len(), &mut out);
    out.extend_from_slice(&content);
    out
}

/// One config round of the load test.
enum Round {
    /// Served: requests carry this tag and reach this upstream.
    Valid { tag: String, upstream: String },
    /// Refused by the config checker.
    Broken { tag: String },
    /// Refused because a filter's `init` rejects its config.
    InitFails { tag: String },
}

#[tokio::test(flavor = "multi_thread")]
async fn reloads_under_load_fail_no_request_and_never_mix_generations() {
    const CLIENTS: usize = 8;
    const ROUNDS: usize = 12;
    let (a, b) = (Upstream::start("a").await, Upstream::start("b").await);
    let admin = free_port();
    // Two filter modules with different bytes, alternated between rounds.
    let dir = tempfile::tempdir().unwrap();
    let modules: [PathBuf; 2] = [dir.path().join("tag-1.wasm"), dir.path().join("tag-2.wasm")];
    let tag_bytes = std::fs::read(filters::TEST_TAG).unwrap();
    std::fs::write(&modules[0], &tag_bytes).unwrap();
    std::fs::write(&modules[1], with_custom_section(&tag_bytes, "second")).unwrap();
    let reject = format!(
        "  gate:\n    module: {}\n    config: {{ reject: refused }}\n",
        filters::TEST_NOOP
    );

    let gw = Arc::new(Gateway::start(&tagged(admin, &a, &modules[0], "gen-0", "")));
    let port = gw.port.to_string();
    let mut valid: Vec<(String, String)> = vec![("gen-0".into(), "a".into())];
    let mut never: Vec<String> = Vec::new();

    // Clients run until told to stop; each records every (status, upstream, tag).
    let stop = Arc::new(AtomicBool::new(false));
    let workers: Vec<_> = (0..CLIENTS)
        .map(|_| {
            let (gw_url, stop) = (gw.url("/"), stop.clone());
            tokio::spawn(async move {
                let http = client();
                let mut seen = Vec::new();
                while !stop.load(Ordering::Relaxed) && seen.len() < 100_000 {
                    let outcome = match http.get(&gw_url).send().await {
                        Ok(resp) => {
                            let status = resp.status().as_u16();
                            let tag = resp
                                .headers()
                                .get("x-chain-resp")
                                .map(|v| v.to_str().unwrap().to_owned())
                                .unwrap_or_default();
                            let body: Value = resp.json().await.unwrap_or(Value::Null);
                            let upstream = body["upstream"].as_str().unwrap_or("").to_owned();
                            (status, upstream, tag)
                        }
                        Err(err) => (0, err.to_string(), String::new()),
                    };
                    seen.push(outcome);
                }
                seen
            })
        })
        .collect();

    for round in 1..=ROUNDS {
        let module = &modules[round % 2];
        let plan = match round % 4 {
            1 => Round::Broken {
                tag: format!("broken-{round}"),
            },
            3 => Round::InitFails {
                tag: format!("rejected-{round}"),
            },
            _ => Round::Valid {
                tag: format!("gen-{round}"),
                upstream: if (round / 2) % 2 == 0 { "a" } else { "b" }.into(),
            },
        };
        let before = admin_config(admin).await;
        match &plan {
            Round::Valid { tag, upstream } => {
                let target = if upstream == "a" { &a } else { &b };
                gw.replace_config(&tagged(admin, target, module, tag, "").replace("{port}", &port));
                let generation = before["generation"].as_u64().unwrap() + 1;
                wait_admin(admin, tag, |s| s["generation"].as_u64() >= Some(generation)).await;
                valid.push((tag.clone(), upstream.clone()));
            }
            Round::Broken { tag } => {
                let text = tagged(admin, &b, module, tag, "")
                    .replace("{port}", &port)
                    .replace("upstream: svc", "upstream: missing");
                gw.replace_config(&text);
                wait_admin(admin, tag, |s| s["last_failure"] != before["last_failure"]).await;
                never.push(tag.clone());
            }
            Round::InitFails { tag } => {
                gw.replace_config(
                    &tagged(admin, &b, module, tag, &reject).replace("{port}", &port),
                );
                wait_admin(admin, tag, |s| s["last_failure"] != before["last_failure"]).await;
                never.push(tag.clone());
            }
        }
    }
    stop.store(true, Ordering::Relaxed);

    let mut total = 0;
    let mut tags_seen = BTreeSet::new();
    for worker in workers {
        for (status, upstream, tag) in worker.await.unwrap() {
            total += 1;
            assert_eq!(
                status, 200,
                "a request failed during reloads: {upstream} (tag {tag:?})"
            );
            let expected = valid.iter().find(|(t, _)| *t == tag).map(|(_, u)| u);
            assert_eq!(
                expected,
                Some(&upstream),
                "tag {tag:?} served by {upstream}: not one generation"
            );
            assert!(!never.contains(&tag));
            tags_seen.insert(tag);
        }
    }
    assert!(
        total > ROUNDS * CLIENTS,
        "the clients kept requesting ({total} requests)"
    );
    // Every valid generation was live long enough for someone to see it.
    assert!(
        tags_seen.len() >= valid.len() / 2,
        "saw {tags_seen:?} of {valid:?}"
    );
    let last = valid.last().unwrap();
    assert_eq!(
        served_by(&gw).await,
        (last.1.clone(), last.0.clone()),
        "the last valid round is serving"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn two_hundred_reloads_leak_no_memory() {
    let (a, b) = (Upstream::start("a").await, Upstream::start("b").await);
    let admin = free_port();
    let module = Path::new(filters::TEST_TAG);
    let gw = Gateway::start(&tagged(admin, &a, module, "t0", ""));
    let port = gw.port.to_string();
    let http = client();
    let mut rss_after_10 = 0;
    for i in 1..=200u64 {
        // Alternate pools and filter configs so each reload builds new ones.
        let target = if i % 2 == 0 { &a } else { &b };
        gw.replace_config(
            &tagged(admin, target, module, &format!("t{i}"), "").replace("{port}", &port),
        );
        let (_, outcome) = admin_reload(admin).await;
        assert_eq!(outcome["ok"], true, "{outcome}");
        let resp = http.get(gw.url("/")).send().await.unwrap();
        assert_eq!(resp.status(), 200);
        if i == 10 {
            rss_after_10 = gw.rss_kib();
        }
    }
    let rss_after_200 = gw.rss_kib();
    eprintln!("RSS after 10 reloads: {rss_after_10} KiB; after 200: {rss_after_200} KiB");
    assert!(
        rss_after_200 * 10 <= rss_after_10 * 11,
        "RSS grew from {rss_after_10} KiB to {rss_after_200} KiB over 190 reloads"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn in_flight_requests_finish_on_the_generation_they_started_with() {
    let up = Upstream::start("svc").await;
    let admin = free_port();
    let module = Path::new(filters::TEST_TAG);
    let gw = Gateway::start(&tagged(admin, &up, module, "old", ""));
    let url = gw.url("/slow?ms=1500");
    let slow = tokio::spawn(async move {
        let resp = client().get(url).send().await.unwrap();
        resp.headers()["x-chain-resp"].to_str().unwrap().to_owned()
    });
    let deadline = Instant::now() + Duration::from_secs(10);
    while up.hits() == 0 {
        assert!(
            Instant::now() < deadline,
            "the slow request never reached the upstream"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let port = gw.port.to_string();
    gw.replace_config(&tagged(admin, &up, module, "new", "").replace("{port}", &port));
    wait_admin(admin, "generation 2", |s| {
        s["generation"].as_u64() >= Some(2)
    })
    .await;
    assert_eq!(served_by(&gw).await.1, "new");
    assert_eq!(
        slow.await.unwrap(),
        "old",
        "the in-flight request kept its generation"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn listener_changes_are_reported_as_needing_a_restart() {
    let (a, b) = (Upstream::start("a").await, Upstream::start("b").await);
    let admin = free_port();
    let module = Path::new(filters::TEST_TAG);
    let gw = Gateway::start(&tagged(admin, &a, module, "t", ""));
    let other_port = free_port().to_string();
    // A new listener address and a new upstream: the upstream change applies,
    // the listener change waits for a restart.
    gw.replace_config(&tagged(admin, &b, module, "t", "").replace("{port}", &other_port));
    let status = wait_admin(admin, "the reload", |s| s["generation"].as_u64() >= Some(2)).await;
    assert_eq!(status["restart_required"], serde_json::json!(["listeners"]));
    assert_eq!(
        served_by(&gw).await.0,
        "b",
        "served on the bound listener by the new pool"
    );
    assert!(
        gw.logs()
            .contains("these changes take effect after a restart")
    );

    // The other sections fixed at start are reported alike.
    let more = tagged(admin, &b, module, "t", "")
        .replace("{port}", &other_port)
        .replace("server:\n  threads: 2\n", "server:\n  threads: 3\n")
        + "access_log:\n  format: text\ntracing:\n  service_name: other\n";
    gw.replace_config(&more);
    let status = wait_admin(admin, "the second reload", |s| {
        s["generation"].as_u64() >= Some(3)
    })
    .await;
    assert_eq!(
        status["restart_required"],
        serde_json::json!(["listeners", "server", "access_log", "tracing"])
    );
}
