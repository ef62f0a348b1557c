//! One attempt at an upstream: which target (the balancer's key from the
//! request), how to reach it (the pool's timeouts and TLS), and after a
//! failure whether to try again.

use std::net::IpAddr;

use pingora::http::RequestHeader;
use pingora::upstreams::peer::HttpPeer;
use weir_config::HashKey;

use super::pool::Pool;

/// The balancer's key for a request, when the pool hashes on one.
pub fn hash_key(pool: &Pool, req: &RequestHeader, client_ip: Option<IpAddr>) -> Option<u64> {
    use super::balance::key_hash as h;
    match pool.hash_key()? {
        HashKey::Header(name) => req.headers.get(name.as_str()).map(|v| h(v.as_bytes())),
        HashKey::Cookie(name) => req
            .headers
            .get_all(http::header::COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(';'))
            .filter_map(|pair| pair.trim().split_once('='))
            .find(|(n, _)| n == name)
            .map(|(_, v)| h(v.as_bytes())),
        // Hash the address bytes: no string built per request.
        HashKey::ClientIp => client_ip.map(|ip| match ip {
            IpAddr::V4(v4) => h(&v4.octets()),
            IpAddr::V6(v6) => h(&v6.octets()),
        }),
    }
}

/// How to reach target `index` of `pool`: its address, TLS with the pool's
/// SNI and CAs, and the pool's timeouts.
pub fn peer(pool: &Pool, index: usize) -> HttpPeer {
    let target = &pool.targets[index];
    let definition = &pool.definition;
    let tls = definition.tls.as_ref();
    let sni = match tls {
        Some(tls) => tls
            .sni
            .clone()
            .unwrap_or_else(|| host_part(&target.address).to_owned()),
        None => String::new(),
    };
    let mut peer = HttpPeer::new(target.socket_addr, tls.is_some(), sni);
    let t = &definition.timeouts;
    peer.options.connection_timeout = Some(t.connect);
    peer.options.total_connection_timeout = Some(t.connect);
    peer.options.read_timeout = Some(t.read);
    peer.options.write_timeout = Some(t.write);
    peer.options.idle_timeout = Some(t.idle);
    if let Some(tls) = tls {
        peer.options.verify_cert = tls.verify;
        peer.options.verify_hostname = tls.verify;
        peer.options.ca = pool.ca.clone();
    }
    peer
}

/// After a failure to connect (nothing was sent, so any method may go
/// elsewhere): whether another target is tried.
pub fn retry_after_connect_failure(pool: &Pool, attempts: usize) -> bool {
    let attempts = attempts as u32;
    attempts <= pool.definition.retries.count && attempts < pool.targets.len() as u32
}

/// After a failure once connected: whether the request may be tried again,
/// by its method, the attempts left and whether its body is still at hand.
pub fn may_retry_after_error(
    pool: &Pool,
    req: &RequestHeader,
    attempts: usize,
    body_truncated: bool,
) -> bool {
    let retries = &pool.definition.retries;
    let method_ok = req.method.is_idempotent() || !retries.idempotent_only_after_connect;
    method_ok && (attempts as u32) <= retries.count && !body_truncated
}

fn host_part(address: &str) -> &str {
    address.rsplit_once(':').map_or(address, |(host, _)| host)
}
