//! W5: W1 load on weir while its config is rewritten (atomically) and
//! reloaded through `POST /admin/reload` every 100 ms. Every request must
//! succeed; the reloads applied are counted from `/admin/config`'s generation.

use std::time::{Duration, Instant};

use tokio::time::MissedTickBehavior;
use weir_tests::wrk::{Load, parse, wrk};
use weir_tests::{Upstream, admin_config, client, free_port};

use crate::proxy::Proxy;
use crate::report::{Row, Section};
use crate::workloads::{FIXED, Opts, Target};
use crate::{checks, weir};

async fn generation(admin: u16) -> u64 {
    admin_config(admin).await["generation"]
        .as_u64()
        .expect("a generation")
}

pub async fn w5(up: &Upstream, opts: Opts) -> Section {
    let mut section = Section::new(
        "W5",
        "W1 with a config reload every 100 ms, 512 B responses",
    );
    let (port, admin) = (free_port(), free_port());
    let proxy = Proxy::weir(weir::reloading(port, admin, up, 0), port, &[]);
    let target = Target::new(
        "weir, config rewritten + POST /admin/reload every 100 ms",
        &proxy,
        FIXED,
    );
    checks::fixed(&target).await;
    target.measure(1);

    let first = generation(admin).await;
    let (mut posted, mut refused) = (0u64, 0u64);
    let mut runs: Vec<(Load, Duration)> = Vec::new();
    for _ in 0..opts.rounds {
        let cpu_before = proxy.cpu_time();
        let mut load = wrk(&proxy.url(FIXED), 50, opts.seconds, &[]);
        let deadline = Instant::now() + Duration::from_secs(u64::from(opts.seconds) + 30);
        let mut every = tokio::time::interval(Duration::from_millis(100));
        every.set_missed_tick_behavior(MissedTickBehavior::Delay);
        while load.try_wait().expect("polling wrk").is_none() {
            assert!(Instant::now() < deadline, "wrk did not finish");
            every.tick().await;
            posted += 1;
            proxy
                .gateway()
                .replace_config(&weir::reloading(port, admin, up, posted));
            let resp = client()
                .post(format!("http://127.0.0.1:{admin}/admin/reload"))
                .send()
                .await
                .expect("the admin endpoint answers");
            if resp.status() != 200 {
                refused += 1;
            }
        }
        let load = parse(load.wait_with_output().expect("wrk's report"));
        runs.push((load, proxy.cpu_time() - cpu_before));
    }
    let applied = generation(admin).await - first;
    let row = Row::new(&target.setup, proxy.kind, &runs);
    let failed = row.failed();
    if failed > 0 {
        proxy.print_log_tail(&target.setup);
    }
    section.rows.push(row);
    section.notes.push(format!(
        "{posted} reloads requested over {} round(s) of {} s ({refused} refused); {applied} \
         reloads applied (the generation's rise: the file watcher also reloads after most \
         writes). Failed requests: {failed} (must be 0).",
        opts.rounds, opts.seconds
    ));
    section
}
