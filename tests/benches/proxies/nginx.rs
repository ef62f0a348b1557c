//! nginx's configs: one worker, no access log, keep-alive connections to the
//! upstream; for W2, njs verifying the HS256 token as weir's jwt-auth does,
//! `limit_req` keyed by its subject, and the same headers as weir's chain.

use std::path::{Path, PathBuf};

/// `nginx` from the Debian package.
pub fn binary() -> PathBuf {
    PathBuf::from("/usr/sbin/nginx")
}

/// The njs module of the Debian package `libnginx-mod-http-js`.
const NJS_MODULE: &str = "/usr/lib/nginx/modules/ngx_http_js_module.so";

/// The whole `nginx.conf`: `main` goes at the top level, `http` into the
/// `http` block, `location` into `location /`.
fn config(dir: &Path, port: u16, upstream: &str, parts: [&str; 3]) -> String {
    let [main, http, location] = parts;
    let dir = dir.display();
    // As root, workers would run as `nobody`, who cannot enter the temporary
    // directory holding the config.
    let user = if is_root() { "user root;" } else { "" };
    format!(
        r#"{main}
{user}
worker_processes 1;
pid {dir}/nginx.pid;
error_log {dir}/error.log warn;
events {{ worker_connections 4096; }}
http {{
    access_log off;
    client_body_temp_path {dir}/client_body;
    proxy_temp_path {dir}/proxy;
    fastcgi_temp_path {dir}/fastcgi;
    uwsgi_temp_path {dir}/uwsgi;
    scgi_temp_path {dir}/scgi;
    # Other proxies do not close a client's connection after 1,000 requests.
    keepalive_requests 1000000;
    upstream app {{
        server {upstream};
        keepalive 64;
        keepalive_requests 1000000;
    }}
{http}
    server {{
        listen 127.0.0.1:{port};
        location / {{
{location}
            proxy_pass http://app;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
        }}
    }}
}}
"#
    )
}

fn is_root() -> bool {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata("/proc/self").is_ok_and(|m| m.uid() == 0)
}

/// W1 and W4: proxy_pass only.
pub fn plain(upstream: String) -> impl Fn(&Path, u16) -> String {
    move |dir, port| config(dir, port, &upstream, ["", "", ""])
}

/// W2: `jwt.js` (see [`njs_module`]) sets `$jwt_sub` to the verified
/// subject, or empty; empty is a 401. `limit_req` counts per subject (a limit
/// nothing reaches, as weir's rate-limit in the bench). The upstream gets
/// `x-user-id`, the client `x-served-by`.
pub fn jwt(upstream: String) -> impl Fn(&Path, u16) -> String {
    move |dir, port| {
        let http = format!(
            "    js_import jwt from {}/jwt.js;\n    js_set $jwt_sub jwt.sub;\n    \
             limit_req_zone $user zone=per_user:10m rate=1000000r/s;",
            dir.display()
        );
        // `set` evaluates the njs function once; `$user` is then a plain variable.
        let location = "            set $user $jwt_sub;\n            \
             if ($user = \"\") { return 401; }\n            \
             limit_req zone=per_user burst=1000000 nodelay;\n            \
             proxy_set_header x-user-id $user;\n            \
             add_header x-served-by weir always;";
        config(
            dir,
            port,
            &upstream,
            [&format!("load_module {NJS_MODULE};"), &http, location],
        )
    }
}

/// The njs module for W2: the checks weir's jwt-auth makes for an HS256
/// provider (signature, `alg`, `iss`, `aud`, `exp`), with `crypto.createHmac`.
pub fn njs_module(secret: &str, issuer: &str, audience: &str) -> String {
    let secret = serde_json::to_string(secret).unwrap();
    let issuer = serde_json::to_string(issuer).unwrap();
    let audience = serde_json::to_string(audience).unwrap();
    format!(
        r#"const crypto = require('crypto');

function decode(part) {{
    return JSON.parse(Buffer.from(part, 'base64url').toString());
}}

// The token's subject when it verifies, else ''.
function sub(r) {{
    const auth = r.headersIn['Authorization'] || '';
    if (!auth.startsWith('Bearer ')) return '';
    const parts = auth.slice(7).split('.');
    if (parts.length !== 3) return '';
    const mac = crypto.createHmac('sha256', {secret})
        .update(parts[0] + '.' + parts[1]).digest('base64url');
    if (mac !== parts[2]) return '';
    let header, claims;
    try {{
        header = decode(parts[0]);
        claims = decode(parts[1]);
    }} catch (e) {{
        return '';
    }}
    if (header.alg !== 'HS256' || claims.iss !== {issuer}) return '';
    const aud = Array.isArray(claims.aud) ? claims.aud : [claims.aud];
    if (!aud.includes({audience})) return '';
    if (typeof claims.exp !== 'number' || claims.exp <= Date.now() / 1000) return '';
    return typeof claims.sub === 'string' ? claims.sub : '';
}}

export default {{ sub }};
"#
    )
}
