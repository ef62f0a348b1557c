//! The demo config (`config/demo.yaml`, what `scripts/demo.sh` runs) works
//! as its comments and the README say: jwt-auth -> rate-limit -> headers ->
//! json-transform in front of an upstream.

use std::time::{SystemTime, UNIX_EPOCH};

use jsonwebtoken::{EncodingKey, Header, encode};
use weir_tests::{Gateway, Upstream, client, free_port, workspace_root};

fn token(secret: &[u8], sub: &str) -> String {
    let exp = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
        + 600;
    let claims =
        serde_json::json!({ "iss": "weir-demo", "aud": "demo-api", "sub": sub, "exp": exp });
    encode(
        &Header::default(),
        &claims,
        &EncodingKey::from_secret(secret),
    )
    .unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn the_demo_chain_allows_a_signed_token_refuses_none_and_limits_each_user() {
    let root = workspace_root();
    let app = Upstream::start("demo").await;
    let port = free_port();
    // The shipped file, moved onto free ports and absolute paths.
    let cfg = std::fs::read_to_string(root.join("config/demo.yaml"))
        .unwrap()
        .replace("127.0.0.1:8080", &format!("127.0.0.1:{port}"))
        .replace("127.0.0.1:9001", &app.address())
        .replace("127.0.0.1:9900", &format!("127.0.0.1:{}", free_port()))
        .replace("../filters/", &format!("{}/filters/", root.display()));
    let dir = tempfile::tempdir().unwrap();
    let secret = std::fs::read(root.join("config/demo-jwt-secret.txt")).unwrap();
    std::fs::write(dir.path().join("demo-jwt-secret.txt"), &secret).unwrap();
    std::fs::write(dir.path().join("weir.yaml"), cfg).unwrap();
    let gw = Gateway::spawn(dir, port);

    let alice = format!("Bearer {}", token(&secret, "alice"));
    let resp = client()
        .get(gw.url("/api/orders"))
        .header("authorization", &alice)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["x-served-by"], "weir");
    assert!(
        resp.headers()["ratelimit"]
            .to_str()
            .unwrap()
            .contains("r=4")
    );
    let body: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(body["path"], "/orders", "strip_prefix");
    assert_eq!(
        body["headers"]["x-user"][0], "alice",
        "jwt-auth forwarded sub"
    );
    assert_eq!(
        body["headers"]["x-client-ip"][0], "127.0.0.1",
        "headers filter"
    );
    assert_eq!(
        body["headers"]["authorization"], "[redacted]",
        "json-transform"
    );
    assert_eq!(body["gateway"], "weir");
    assert!(body.get("body").is_none());

    // The handler route: a Wasm component answers, the headers filter in front.
    let hello = client().get(gw.url("/hello")).send().await.unwrap();
    assert_eq!(hello.status(), 200);
    assert_eq!(hello.headers()["x-handler"], "hello");
    assert_eq!(hello.headers()["x-served-by"], "weir");
    assert_eq!(
        hello.text().await.unwrap(),
        "hello from a Wasm handler inside weir\n"
    );

    let anonymous = client().get(gw.url("/api/orders")).send().await.unwrap();
    assert_eq!(anonymous.status(), 401);
    assert!(anonymous.headers().contains_key("www-authenticate"));

    for _ in 0..4 {
        let ok = client()
            .get(gw.url("/api/orders"))
            .header("authorization", &alice)
            .send()
            .await
            .unwrap();
        assert_eq!(ok.status(), 200);
    }
    let limited = client()
        .get(gw.url("/api/orders"))
        .header("authorization", &alice)
        .send()
        .await
        .unwrap();
    assert_eq!(limited.status(), 429);
    assert!(limited.headers().contains_key("retry-after"));
    // Another user has a quota of their own.
    let bob = format!("Bearer {}", token(&secret, "bob"));
    let other = client()
        .get(gw.url("/api/orders"))
        .header("authorization", bob)
        .send()
        .await
        .unwrap();
    assert_eq!(other.status(), 200);
    assert_eq!(app.hits(), 6);
}
