//! Checks of the `upstreams` section.

use std::collections::BTreeMap;
use std::net::Ipv6Addr;
use std::time::Duration;

use super::checker::Checker;
use crate::model::{
    Balance, HashKey, HealthCheck, PassiveHealth, Retries, Target, Timeouts, Upstream, UpstreamTls,
};
use crate::parse::ConfigPath;
use crate::schema::{BalanceFile, HashOnFile, UpstreamFile};

/// The upstreams without errors, by name.
pub(super) fn upstreams(c: &mut Checker) -> BTreeMap<String, Upstream> {
    let doc = c.doc;
    doc.upstreams
        .iter()
        .filter_map(|(path, name, file)| upstream(c, path, name, file).map(|u| (name.clone(), u)))
        .collect()
}

fn upstream(
    c: &mut Checker,
    path: &ConfigPath,
    name: &str,
    file: &UpstreamFile,
) -> Option<Upstream> {
    let errors_before = c.errors.len();
    if file.targets.is_empty() {
        c.error(&path.key("targets"), "at least one target is required");
    }
    let targets: Vec<Target> = file
        .targets
        .iter()
        .enumerate()
        .map(|(i, t)| {
            let target_path = path.key("targets").index(i);
            if !valid_host_port(&t.address) {
                c.error(
                    &target_path.key("address"),
                    format!("invalid address {:?}; expected host:port", t.address),
                );
            }
            let weight = t.weight.unwrap_or(1);
            c.at_least_one(&target_path.key("weight"), weight.into());
            Target {
                address: t.address.clone(),
                weight,
            }
        })
        .collect();
    let balance = match (
        file.balance.unwrap_or(BalanceFile::RoundRobin),
        &file.hash_on,
    ) {
        (BalanceFile::ConsistentHash, Some(key)) => Balance::ConsistentHash(match key {
            HashOnFile::Header(h) => HashKey::Header(h.to_ascii_lowercase()),
            HashOnFile::Cookie(name) => HashKey::Cookie(name.clone()),
            HashOnFile::ClientIp => HashKey::ClientIp,
        }),
        (BalanceFile::ConsistentHash, None) => {
            c.error(
                &path.key("balance"),
                "consistent_hash needs `hash_on` (header, cookie or client_ip)",
            );
            Balance::RoundRobin
        }
        (_, Some(_)) => {
            c.error(
                &path.key("hash_on"),
                "`hash_on` is only used with `balance: consistent_hash`",
            );
            Balance::RoundRobin
        }
        (BalanceFile::RoundRobin, None) => Balance::RoundRobin,
        (BalanceFile::Weighted, None) => Balance::Weighted,
        (BalanceFile::LeastConnections, None) => Balance::LeastConnections,
        (BalanceFile::PowerOfTwoChoices, None) => Balance::PowerOfTwoChoices,
    };
    let health_check = file.health_check.as_ref().map(|h| {
        let hc_path = path.key("health_check");
        if !h.path.starts_with('/') {
            c.error(
                &hc_path.key("path"),
                format!("path {:?} must start with /", h.path),
            );
        }
        let expected_status = match &h.expected_status {
            None => (200, 399),
            Some(range) => parse_status_range(&range.0).unwrap_or_else(|| {
                c.error(
                    &hc_path.key("expected_status"),
                    format!(
                        "invalid status range {:?}; expected e.g. 200-399 or 204",
                        range.0
                    ),
                );
                (200, 399)
            }),
        };
        let unhealthy_threshold = h.unhealthy_threshold.unwrap_or(3);
        let healthy_threshold = h.healthy_threshold.unwrap_or(2);
        for (field, value) in [
            ("unhealthy_threshold", unhealthy_threshold),
            ("healthy_threshold", healthy_threshold),
        ] {
            c.at_least_one(&hc_path.key(field), value.into());
        }
        HealthCheck {
            path: h.path.clone(),
            interval: h.interval.map_or(Duration::from_secs(10), |d| d.0),
            timeout: h.timeout.map_or(Duration::from_secs(2), |d| d.0),
            unhealthy_threshold,
            healthy_threshold,
            expected_status,
        }
    });
    let passive_health = file.passive_health.as_ref().map(|p| {
        let max_failures = p.max_failures.unwrap_or(5);
        c.at_least_one(
            &path.key("passive_health").key("max_failures"),
            max_failures.into(),
        );
        PassiveHealth {
            max_failures,
            ejection_time: p.ejection_time.map_or(Duration::from_secs(30), |d| d.0),
        }
    });
    let t = file.timeouts.as_ref();
    let timeouts = Timeouts {
        connect: t
            .and_then(|t| t.connect)
            .map_or(Duration::from_secs(2), |d| d.0),
        read: t
            .and_then(|t| t.read)
            .map_or(Duration::from_secs(30), |d| d.0),
        write: t
            .and_then(|t| t.write)
            .map_or(Duration::from_secs(30), |d| d.0),
        idle: t
            .and_then(|t| t.idle)
            .map_or(Duration::from_secs(60), |d| d.0),
    };
    for (field, value) in [
        ("connect", timeouts.connect),
        ("read", timeouts.read),
        ("write", timeouts.write),
    ] {
        c.more_than_zero(&path.key("timeouts").key(field), value);
    }
    let r = file.retries.as_ref();
    let retries = Retries {
        count: r.and_then(|r| r.count).unwrap_or(1),
        idempotent_only_after_connect: r.and_then(|r| r.idempotent_only).unwrap_or(true),
    };
    let tls = file.tls.as_ref().map(|t| UpstreamTls {
        sni: t.sni.clone(),
        verify: t.verify.unwrap_or(true),
        ca_file: t.ca_file.as_deref().map(|f| c.resolve(f)),
    });
    (c.errors.len() == errors_before).then(|| Upstream {
        name: name.to_owned(),
        targets,
        balance,
        health_check,
        passive_health,
        timeouts,
        retries,
        tls,
    })
}

/// `host:port` with a non-empty host and a port; IPv6 hosts in brackets.
fn valid_host_port(address: &str) -> bool {
    let Some((host, port)) = address.rsplit_once(':') else {
        return false;
    };
    let host_ok = match host.strip_prefix('[').and_then(|h| h.strip_suffix(']')) {
        Some(ipv6) => ipv6.parse::<Ipv6Addr>().is_ok(),
        None => {
            !host.is_empty()
                && !host.contains([':', '[', ']', '/'])
                && !host.contains(char::is_whitespace)
        }
    };
    host_ok && port.parse::<u16>().is_ok_and(|p| p > 0)
}

fn parse_status_range(text: &str) -> Option<(u16, u16)> {
    let valid = |s: u16| (100..=599).contains(&s);
    let (low, high) = match text.split_once('-') {
        Some((a, b)) => (a.trim().parse().ok()?, b.trim().parse().ok()?),
        None => {
            let s = text.trim().parse().ok()?;
            (s, s)
        }
    };
    (valid(low) && valid(high) && low <= high).then_some((low, high))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn target_addresses() {
        for good in [
            "a.internal:80",
            "127.0.0.1:9101",
            "[fd00::1]:8080",
            "localhost:1",
        ] {
            assert!(valid_host_port(good), "{good}");
        }
        for bad in [
            "a.internal",
            ":80",
            "a:0",
            "a:65536",
            "a:http",
            "fd00::1",
            "[fd00::1]",
            "[nope]:80",
            "http://a:80",
            "a b:80",
        ] {
            assert!(!valid_host_port(bad), "{bad}");
        }
    }

    #[test]
    fn status_ranges() {
        assert_eq!(parse_status_range("200-399"), Some((200, 399)));
        assert_eq!(parse_status_range("204"), Some((204, 204)));
        assert_eq!(parse_status_range(" 200 - 299 "), Some((200, 299)));
        for bad in ["399-200", "99", "600", "2xx", "200-", ""] {
            assert_eq!(parse_status_range(bad), None, "{bad}");
        }
    }
}
