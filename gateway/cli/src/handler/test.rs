//! `weir handler test`: every case of a fixture file through a handler, in
//! this process and without network: the request (its body fed as a client
//! would send it) goes to a fresh instance, as in weir, and the response is
//! compared with the case's `expect`; a readable diff per failed case.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, anyhow};
use bytes::Bytes;
use http::HeaderMap;
use weir_config::HandlerLimits;
use weir_wasm::{Capabilities, Chunk, HandlerSpec, HostOptions, LoadedHandler, WasmHost};

use super::fixture::HandlerFixtureFile;
use crate::filter::compare::{Tally, compare_response};
use crate::filter::fixture::Request;
use crate::filter::target::{imports_outbound_http, no_network};

/// The handler under test: its component and the environment of every case.
pub struct Target {
    pub name: String,
    pub module: PathBuf,
    pub env: BTreeMap<String, String>,
    pub limits: HandlerLimits,
}

/// The config's defaults for a handler's limits, with this deadline.
pub fn limits(deadline: Duration) -> HandlerLimits {
    let defaults = HandlerLimits::default();
    HandlerLimits {
        deadline,
        stream_timeout: defaults.stream_timeout.max(deadline),
        ..defaults
    }
}

/// Pieces the request body is sent in, as a client's body arrives.
const BODY_CHUNK: usize = 16 << 10;

/// Runs every case; true when all passed.
pub fn run(
    target: &Target,
    file: &HandlerFixtureFile,
    fixtures: &Path,
    cache_dir: Option<PathBuf>,
) -> anyhow::Result<bool> {
    if imports_outbound_http(&target.module) {
        println!(
            "note: {} may make outbound HTTP requests; weir handler test has no network, so each is refused",
            target.module.display()
        );
    }
    let host = WasmHost::new(HostOptions {
        cache_dir,
        ..HostOptions::default()
    })?;
    // One handler per distinct environment; a handler that does not load
    // fails every case the same way: say it once.
    let mut loaded: BTreeMap<Vec<(String, String)>, Arc<LoadedHandler>> = BTreeMap::new();
    load(&host, target, &mut loaded, target.env.clone())?;
    let mut tally = Tally::default();
    for case in &file.cases {
        let mut env = target.env.clone();
        env.extend(case.env.clone());
        let outcome = load(&host, target, &mut loaded, env)
            .and_then(|handler| host.block_on(exchange(&handler, &case.request)));
        let mismatches = outcome.map(|answer| {
            compare_response(&case.expect, answer.status, &answer.headers, &answer.body)
        });
        tally.case(&case.name, mismatches);
    }
    Ok(tally.finish(fixtures))
}

fn load(
    host: &WasmHost,
    target: &Target,
    loaded: &mut BTreeMap<Vec<(String, String)>, Arc<LoadedHandler>>,
    env: BTreeMap<String, String>,
) -> anyhow::Result<Arc<LoadedHandler>> {
    let env: Vec<(String, String)> = env.into_iter().collect();
    if let Some(handler) = loaded.get(&env) {
        return Ok(handler.clone());
    }
    let spec = HandlerSpec {
        name: target.name.clone(),
        module: target.module.clone(),
        env: env.clone(),
        limits: target.limits.clone(),
        circuit_breaker: Default::default(),
        // Consent to the imports, nothing granted: no store, no secret, no
        // origin (an outbound request is refused before any connection).
        capabilities: Capabilities {
            key_value: Some(BTreeMap::new()),
            secrets: Some(BTreeMap::new()),
            http: Some(no_network()),
            files: None,
        },
    };
    let handler = host
        .block_on(host.load_handler(spec, None))
        .with_context(|| format!("cannot load handler {}", target.module.display()))?;
    loaded.insert(env, handler.clone());
    Ok(handler)
}

/// What the handler answered.
struct Answer {
    status: u16,
    headers: HeaderMap,
    body: Vec<u8>,
}

/// One request through the handler, the whole response read.
async fn exchange(handler: &Arc<LoadedHandler>, fixture: &Request) -> anyhow::Result<Answer> {
    let (sender, body) = weir_wasm::request_body();
    let request = request(fixture, body)?;
    // The channel holds a few chunks: fed beside the exchange, as weir
    // feeds a client's body while the handler runs.
    let chunks: Vec<Bytes> = Bytes::from(fixture.body.clone().into_bytes())
        .chunks(BODY_CHUNK)
        .map(Bytes::copy_from_slice)
        .collect();
    let feeding = tokio::spawn(async move {
        for chunk in chunks {
            match sender.reserve().await {
                Some(slot) => slot.send(chunk),
                // The handler will not read more.
                None => break,
            }
        }
        // Dropped: the body ends.
    });
    let outcome = answer(handler, request).await;
    feeding.abort();
    outcome
}

async fn answer(
    handler: &Arc<LoadedHandler>,
    request: http::Request<weir_wasm::RequestBody>,
) -> anyhow::Result<Answer> {
    let mut call = handler
        .call(request, false)
        .await
        .map_err(|e| anyhow!("the handler did not run: {e}"))?;
    let parts = call
        .response()
        .await
        .map_err(|e| anyhow!("the handler failed before answering: {e}"))?;
    let mut body = Vec::new();
    while let Some(chunk) = call
        .next_chunk()
        .await
        .map_err(|e| anyhow!("the handler failed while sending its body: {e}"))?
    {
        if let Chunk::Data(data) = chunk {
            body.extend_from_slice(&data);
        }
    }
    call.finish();
    Ok(Answer {
        status: parts.status.as_u16(),
        headers: parts.headers,
        body,
    })
}

/// The request as weir would pass it: `http://HOST/path?query`, the host
/// from the `host` header (else `localhost`), the fixture's headers, and a
/// `content-length` for a body sent without one, as a client sends it.
fn request(
    fixture: &Request,
    body: weir_wasm::RequestBody,
) -> anyhow::Result<http::Request<weir_wasm::RequestBody>> {
    let header = |name: &str| {
        fixture
            .headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    };
    let authority = header("host").unwrap_or("localhost");
    let mut uri = format!("http://{authority}{}", fixture.path);
    if let Some(query) = &fixture.query {
        uri.push('?');
        uri.push_str(query);
    }
    let mut builder = http::Request::builder()
        .method(fixture.method.as_str())
        .uri(&uri);
    for (name, value) in &fixture.headers {
        builder = builder.header(name.as_str(), value.as_str());
    }
    if !fixture.body.is_empty()
        && header("content-length").is_none()
        && header("transfer-encoding").is_none()
    {
        builder = builder.header(http::header::CONTENT_LENGTH, fixture.body.len());
    }
    builder
        .body(body)
        .with_context(|| format!("invalid request: {} {uri}", fixture.method))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fixture_request_becomes_what_weir_passes() {
        let fixture = Request {
            method: "POST".into(),
            path: "/echo".into(),
            query: Some("a=1".into()),
            headers: BTreeMap::from([("Host".into(), "example.com".into())]),
            body: "hello".into(),
            ..Request::default()
        };
        let request = request(&fixture, weir_wasm::RequestBody::empty()).unwrap();
        assert_eq!(request.method(), "POST");
        assert_eq!(request.uri(), "http://example.com/echo?a=1");
        assert_eq!(request.headers()["content-length"], "5");
        assert_eq!(request.headers()["host"], "example.com");
        assert!(limits(Duration::from_secs(400)).stream_timeout >= Duration::from_secs(400));
    }
}
