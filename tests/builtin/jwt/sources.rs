//! Where the token is read from: a header without scheme, a cookie, a query
//! parameter, in the configured order; places not configured are ignored.

use jsonwebtoken::Algorithm;
use serde_json::json;

use crate::keys;
use crate::valid::{HS, NO_ORIGIN};
use crate::{Site, claims, filter_config, provider};

#[tokio::test(flavor = "multi_thread")]
async fn tokens_are_read_from_the_configured_places_in_order() {
    let key = keys::hmac(Algorithm::HS256);
    let mut config = filter_config(vec![provider(
        HS,
        &["HS256"],
        json!({ "secret": "hmac_key" }),
    )]);
    config["tokens"] = json!([
        { "header": { "name": "x-api-token" } },
        { "cookie": "session" },
        { "query": "access_token" },
    ]);
    let site = Site::start(config, &[], NO_ORIGIN).await;
    let token = key.sign(&claims(HS));
    let mut other = claims(HS);
    other["sub"] = json!("someone-else");
    let other = key.sign(&other);

    let reply = site.get("/orders", &[("x-api-token", &token)]).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    let cookie = format!("theme=dark; session={token}; lang=en");
    let reply = site.get("/orders", &[("cookie", &cookie)]).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    let reply = site
        .get(&format!("/orders?page=2&access_token={token}"), &[])
        .await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(reply.upstream_header("x-user-id"), Some("user-42"));

    // The header comes first, then the cookie.
    let cookie = format!("session={other}");
    let reply = site
        .get(
            &format!("/orders?access_token={other}"),
            &[("x-api-token", &token), ("cookie", &cookie)],
        )
        .await;
    assert_eq!(reply.upstream_header("x-user-id"), Some("user-42"));
    let reply = site
        .get(
            &format!("/orders?access_token={token}"),
            &[("cookie", &cookie)],
        )
        .await;
    assert_eq!(reply.upstream_header("x-user-id"), Some("someone-else"));

    // `Authorization: Bearer` is not among the configured places here.
    let reply = site.with_token(&token).await;
    assert_eq!(reply.status, 401);
    assert_eq!(reply.challenge.as_deref(), Some("Bearer realm=\"orders\""));
    // A bad token in the first place that has one is refused: no fallback
    // to a later place.
    let reply = site
        .get(
            &format!("/orders?access_token={token}"),
            &[("x-api-token", "garbage")],
        )
        .await;
    reply.assert_invalid_token();

    // With a single provider its issuer is still enforced.
    let mut foreign = claims(HS);
    foreign["iss"] = json!("https://evil.test");
    let foreign = key.sign(&foreign);
    let reply = site.get("/orders", &[("x-api-token", &foreign)]).await;
    reply.assert_invalid_token();
    assert!(site.gateway.logs().contains("token refused: InvalidIssuer"));
}
