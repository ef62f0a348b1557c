//! HAProxy's configs: HTTP mode, one thread, keep-alive on both sides, no
//! log; for W2, its own JWT converters checking the HS256 token as weir's
//! jwt-auth does, a stick-table counting per subject, and the same headers.

use std::path::PathBuf;

/// `haproxy` from the Debian package.
pub fn binary() -> PathBuf {
    PathBuf::from("/usr/sbin/haproxy")
}

fn config(port: u16, upstream: &str, frontend: &str, extra: &str) -> String {
    format!(
        r#"global
    nbthread 1
    maxconn 4096

defaults
    mode http
    timeout connect 5s
    timeout client 30s
    timeout server 30s
    option http-keep-alive
    http-reuse always

frontend main
    bind 127.0.0.1:{port}
{frontend}
    default_backend app

backend app
    server app {upstream}
{extra}"#
    )
}

/// W1 and W4: forward only.
pub fn plain(upstream: String) -> impl Fn(u16) -> String {
    move |port| config(port, &upstream, "", "")
}

/// W2: `jwt_verify` on the bearer token, then `alg`, `iss`, `aud` and `exp`;
/// a request counter per subject (a limit nothing reaches, as weir's
/// rate-limit in the bench); `x-user-id` upstream, `x-served-by` to the client.
pub fn jwt(
    upstream: String,
    secret: String,
    issuer: String,
    audience: String,
) -> impl Fn(u16) -> String {
    move |port| {
        let frontend = format!(
            r#"    http-request set-var(txn.bearer) http_auth_bearer
    http-request set-var(txn.alg) var(txn.bearer),jwt_header_query('$.alg')
    http-request deny deny_status 401 unless {{ var(txn.alg) -m str HS256 }}
    http-request deny deny_status 401 unless {{ var(txn.bearer),jwt_verify(txn.alg,"{secret}") -m int 1 }}
    http-request set-var(txn.iss) var(txn.bearer),jwt_payload_query('$.iss')
    http-request set-var(txn.aud) var(txn.bearer),jwt_payload_query('$.aud')
    http-request set-var(txn.exp) var(txn.bearer),jwt_payload_query('$.exp','int')
    http-request set-var(txn.sub) var(txn.bearer),jwt_payload_query('$.sub')
    http-request set-var(txn.now) date
    http-request deny deny_status 401 unless {{ var(txn.iss) -m str {issuer} }} {{ var(txn.aud) -m str {audience} }}
    http-request deny deny_status 401 if {{ var(txn.exp),sub(txn.now) -m int le 0 }}
    http-request track-sc0 var(txn.sub) table per_user
    http-request deny deny_status 429 if {{ sc_http_req_cnt(0) gt 1000000000 }}
    http-request set-header x-user-id %[var(txn.sub)]
    http-response set-header x-served-by weir"#
        );
        let table = "\nbackend per_user\n    stick-table type string len 64 size 100k expire 1h store http_req_cnt\n";
        config(port, &upstream, &frontend, table)
    }
}
