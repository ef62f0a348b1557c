//! HTTP/2 to the client (prior knowledge on a plain listener) and a WebSocket
//! echo through the proxy.

use futures_util::{SinkExt, StreamExt};
use tokio_tungstenite::tungstenite::Message;
use weir_tests::{Gateway, Upstream};

use crate::config;

fn proxied(up: &Upstream) -> String {
    config(&format!(
        "    http2: true\nupstreams:\n  svc:\n    targets: [{{ address: {} }}]\nroutes:\n  - match: {{ path: {{ prefix: / }} }}\n    upstream: svc\n",
        up.address()
    ))
}

#[tokio::test(flavor = "multi_thread")]
async fn h2c_prior_knowledge() {
    let up = Upstream::start("h2").await;
    let gw = Gateway::start(&proxied(&up));
    let c = reqwest::Client::builder()
        .http2_prior_knowledge()
        .build()
        .unwrap();
    let resp = c.get(gw.url("/via-h2")).send().await.unwrap();
    assert_eq!(resp.version(), reqwest::Version::HTTP_2);
    let body: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(body["path"], "/via-h2");
}

#[tokio::test(flavor = "multi_thread")]
async fn websocket_echo_through_the_proxy() {
    let up = Upstream::start("ws").await;
    let gw = Gateway::start(&proxied(&up));
    let (mut socket, response) =
        tokio_tungstenite::connect_async(format!("ws://127.0.0.1:{}/ws", gw.port))
            .await
            .expect("websocket handshake through weir");
    assert_eq!(response.status(), 101);
    for text in ["hello", "through", "weir"] {
        socket.send(Message::text(text)).await.unwrap();
        let echoed = socket.next().await.expect("an echo").unwrap();
        assert_eq!(echoed, Message::text(text));
    }
    socket
        .send(Message::binary(vec![0u8, 1, 2, 255]))
        .await
        .unwrap();
    assert_eq!(
        socket.next().await.unwrap().unwrap(),
        Message::binary(vec![0u8, 1, 2, 255])
    );
    socket.close(None).await.unwrap();
}
