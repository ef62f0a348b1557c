//! Before any load: each proxy does the work it will be measured for. A
//! proxy that skipped the token check or the transform would look fast.

use weir_tests::client;

use crate::proxy::Proxy;
use crate::w2::token;
use crate::workloads::Target;

/// GET `target`'s request as wrk will send it: status and body.
async fn get(target: &Target<'_>, path: &str) -> (u16, reqwest::header::HeaderMap, Vec<u8>) {
    let mut request = client().get(target.proxy.url(path));
    for header in &target.headers {
        let (name, value) = header.split_once(": ").expect("`name: value`");
        request = request.header(name, value);
    }
    let resp = request.send().await.expect("the proxy answers");
    let (status, headers) = (resp.status().as_u16(), resp.headers().clone());
    (
        status,
        headers,
        resp.bytes().await.expect("a body").to_vec(),
    )
}

/// The 512-byte answer, whole.
pub async fn fixed(target: &Target<'_>) {
    let (status, _, body) = get(target, &target.path).await;
    assert_eq!(status, 200, "{}", target.setup);
    assert_eq!(
        body.len(),
        512,
        "{}: the upstream's 512 bytes",
        target.setup
    );
}

/// The 10 KB JSON document, untouched.
pub async fn json_passed(target: &Target<'_>) {
    let (status, _, body) = get(target, &target.path).await;
    assert_eq!(status, 200, "{}", target.setup);
    assert_eq!(body.len(), 10240, "{}: the whole document", target.setup);
    let doc: serde_json::Value = serde_json::from_slice(&body).expect("JSON");
    assert_eq!(doc["user"]["email"], "ada@example.com", "{}", target.setup);
}

/// The 10 KB JSON document with weir::TRANSFORM's edits.
pub async fn json_transformed(target: &Target<'_>) {
    let (status, _, body) = get(target, &target.path).await;
    assert_eq!(status, 200, "{}", target.setup);
    let doc: serde_json::Value = serde_json::from_slice(&body).expect("JSON");
    assert!(
        doc.get("debug").is_none(),
        "{}: /debug removed",
        target.setup
    );
    assert_eq!(doc["user"]["email"], "[redacted]", "{}", target.setup);
    assert_eq!(
        doc["user"]["user_id"], 42,
        "{}: /user/id renamed",
        target.setup
    );
    assert_eq!(
        doc["meta"]["served_by"], "weir",
        "{}: /meta added",
        target.setup
    );
}

/// With the token: 200, the upstream sees `upstream_header` (`x-user-id`
/// must carry the token's subject), the client gets `response_header`.
/// Without a token, or with a forged signature: 401.
pub async fn jwt(proxy: &Proxy, upstream_header: &str, response_header: Option<&str>) {
    let what = format!("{:?}", proxy.kind);
    let token = token();
    let resp = client()
        .get(proxy.url("/echo"))
        .bearer_auth(&token)
        .send()
        .await
        .expect("the proxy answers");
    assert_eq!(resp.status(), 200, "{what}: a valid token passes");
    if let Some(name) = response_header {
        assert!(
            resp.headers().contains_key(name),
            "{what}: {name} in the response"
        );
    }
    let seen: serde_json::Value = resp.json().await.expect("the upstream's JSON");
    let value = &seen["headers"][upstream_header][0];
    assert!(
        value.is_string(),
        "{what}: the upstream sees {upstream_header}: {seen}"
    );
    if upstream_header == "x-user-id" {
        assert_eq!(value, "user-1", "{what}: the token's subject upstream");
    }

    // The signature's first character changed: its first six bits differ.
    let at = token.rfind('.').expect("a signed token") + 1;
    let first = if token.as_bytes()[at] == b'A' {
        "B"
    } else {
        "A"
    };
    let forged = format!("{}{first}{}", &token[..at], &token[at + 1..]);
    for bearer in [None, Some(forged.as_str())] {
        let mut request = client().get(proxy.url("/echo"));
        if let Some(bearer) = bearer {
            request = request.bearer_auth(bearer);
        }
        let status = request.send().await.expect("the proxy answers").status();
        assert_eq!(status, 401, "{what}: {bearer:?} is refused");
    }
}

/// A hello handler's answer (filters/handlers): 200, `x-handler: hello`,
/// the greeting whole.
pub async fn hello(target: &Target<'_>) {
    let (status, headers, body) = get(target, &target.path).await;
    assert_eq!(status, 200, "{}", target.setup);
    assert_eq!(
        headers.get("x-handler").map(|v| v.as_bytes()),
        Some(&b"hello"[..]),
        "{}",
        target.setup
    );
    assert_eq!(
        String::from_utf8_lossy(&body),
        crate::handlers::HELLO,
        "{}",
        target.setup
    );
}
