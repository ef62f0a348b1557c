//! Runs one fixture case through a loaded chain the way the proxy does
//! (gateway/proxy/src/chain/), with the fixture's canned response in
//! place of an upstream: request phases in chain order, then the response
//! phases and the log in reverse over the filters the request reached. A
//! response a filter answered with goes through the response-headers phase
//! but not the body phase, as in the proxy.

use std::collections::HashMap;
use std::time::Instant;

use anyhow::Context;
use http::{HeaderMap, HeaderName, HeaderValue};
use weir_proxy::chain::{ChainRun, PhaseOutcome};
use weir_wasm::{FilterResponse, LogInfo, Phase, RequestView, ResponseView};

use super::fixture::{Case, DecisionKind};
use super::target::Loaded;

/// The request as it would have gone upstream.
#[derive(Debug)]
pub struct SentRequest {
    pub method: String,
    pub path: String,
    pub query: Option<String>,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

#[derive(Debug)]
pub struct SentResponse {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

/// What came out of a case.
#[derive(Debug)]
pub struct Observed {
    pub decision: DecisionKind,
    /// The filter failure behind a `fail`.
    pub failure: Option<String>,
    /// None when no request went upstream.
    pub upstream_request: Option<SentRequest>,
    pub response: SentResponse,
    pub context: HashMap<String, String>,
}

/// A response that did not come from the upstream.
struct Local {
    decision: DecisionKind,
    response: FilterResponse,
}

pub async fn run(loaded: &Loaded, case: &Case, request_id: &str) -> anyhow::Result<Observed> {
    let started = Instant::now();
    for (store, entries) in &case.kv {
        let Some(kv) = loaded.stores.get(store) else {
            anyhow::bail!("kv: no filter is granted a store named {store:?}");
        };
        for (key, value) in entries {
            kv.set(key, value.as_bytes(), None).await?;
        }
    }
    let chain = &loaded.chain;
    let mut run = ChainRun::new(chain, request_view(case, request_id)?, None);
    let mut failure = None;
    let mut local = None;
    if chain.phases.contains(Phase::RequestHeaders) {
        local = settle(run.on_request_headers().await, &mut failure, request_id);
    }
    let mut request_body = case.request.body.clone().into_bytes();
    if local.is_none() && chain.phases.contains(Phase::RequestBody) {
        local = settle(
            run.on_request_body(&mut request_body).await,
            &mut failure,
            request_id,
        );
    }

    let mut upstream_request = None;
    let (decision, response) = match local {
        Some(local) => {
            let (decision, response) =
                response_headers(&mut run, local.response, &mut failure, request_id).await;
            (decision.unwrap_or(local.decision), response)
        }
        None => {
            upstream_request = Some(SentRequest {
                method: run.exchange.request.method.to_string(),
                path: run.exchange.request.path.clone(),
                query: run.exchange.request.query.clone(),
                headers: run.exchange.request.headers.clone(),
                body: request_body.clone(),
            });
            let upstream = FilterResponse {
                status: case.upstream.status,
                headers: case
                    .upstream
                    .headers
                    .iter()
                    .map(|(n, v)| (n.clone(), v.clone().into_bytes()))
                    .collect(),
                body: case.upstream.body.clone().into_bytes(),
            };
            let (decision, mut response) =
                response_headers(&mut run, upstream, &mut failure, request_id).await;
            if decision.is_none() && chain.phases.contains(Phase::ResponseBody) {
                let mut body = std::mem::take(&mut response.body);
                match settle(
                    run.on_response_body(&mut body).await,
                    &mut failure,
                    request_id,
                ) {
                    Some(local) => (local.decision, to_sent(local.response)?),
                    None => {
                        response.body = body;
                        (DecisionKind::Continue, response)
                    }
                }
            } else {
                (decision.unwrap_or(DecisionKind::Continue), response)
            }
        }
    };

    if chain.phases.contains(Phase::Log) {
        run.on_log(&LogInfo {
            status: response.status,
            duration: started.elapsed(),
            request_body_bytes: request_body.len() as u64,
            response_body_bytes: response.body.len() as u64,
            upstream_target: upstream_request.as_ref().map(|_| "fixture".to_owned()),
            route: None,
            error: failure.clone(),
        })
        .await;
    }
    Ok(Observed {
        decision,
        failure,
        upstream_request,
        response,
        context: std::mem::take(&mut run.exchange.context).into_entries(),
    })
}

/// The response-headers phase over `response`: the response the client
/// gets, and the decision when a filter answered or failed there.
async fn response_headers(
    run: &mut ChainRun,
    response: FilterResponse,
    failure: &mut Option<String>,
    request_id: &str,
) -> (Option<DecisionKind>, SentResponse) {
    let mut sent = match to_sent(response) {
        Ok(sent) => sent,
        Err(error) => {
            *failure = Some(format!("{error:#}"));
            return (
                Some(DecisionKind::Fail),
                error_response(request_id, "invalid response"),
            );
        }
    };
    // The request phases' response-header edits go on first, as in the proxy.
    weir_wasm::apply_edits(
        &mut sent.headers,
        run.exchange.response_arrived().iter().cloned(),
    );
    run.exchange.response = ResponseView {
        status: sent.status,
        headers: sent.headers.clone(),
        status_changed: false,
        edits: Vec::new(),
    };
    match settle(run.on_response_headers().await, failure, request_id) {
        Some(local) => match to_sent(local.response) {
            Ok(replaced) => (Some(local.decision), replaced),
            Err(error) => {
                *failure = Some(format!("{error:#}"));
                (
                    Some(DecisionKind::Fail),
                    error_response(request_id, "invalid response"),
                )
            }
        },
        None => {
            sent.status = run.exchange.response.status;
            sent.headers = run.exchange.response.headers.clone();
            (None, sent)
        }
    }
}

/// None to go on; a response when a filter answered or failed closed.
fn settle(outcome: PhaseOutcome, failure: &mut Option<String>, request_id: &str) -> Option<Local> {
    match outcome {
        Ok(None) => None,
        Ok(Some(response)) => Some(Local {
            decision: DecisionKind::Respond,
            response,
        }),
        Err(failed) => {
            *failure = Some(failed.to_string());
            Some(Local {
                decision: DecisionKind::Fail,
                response: failed.response(request_id),
            })
        }
    }
}

/// The proxy's own 503 (weir_proxy::chain::error_response).
fn error_response(request_id: &str, message: &str) -> SentResponse {
    let response = weir_proxy::chain::error_response(503, message, request_id);
    to_sent(response).expect("weir's own response is valid")
}

fn to_sent(response: FilterResponse) -> anyhow::Result<SentResponse> {
    Ok(SentResponse {
        status: response.status,
        headers: header_map(
            response
                .headers
                .iter()
                .map(|(n, v)| (n.as_str(), v.as_slice())),
        )?,
        body: response.body,
    })
}

fn header_map<'a>(pairs: impl Iterator<Item = (&'a str, &'a [u8])>) -> anyhow::Result<HeaderMap> {
    let mut map = HeaderMap::new();
    for (name, value) in pairs {
        let name = HeaderName::from_bytes(name.as_bytes())
            .with_context(|| format!("invalid header name {name:?}"))?;
        let value = HeaderValue::from_bytes(value)
            .with_context(|| format!("invalid value for header {name}"))?;
        map.append(name, value);
    }
    Ok(map)
}

fn request_view(case: &Case, request_id: &str) -> anyhow::Result<RequestView> {
    let r = &case.request;
    Ok(RequestView {
        method: r
            .method
            .parse()
            .with_context(|| format!("request.method {:?} is not an HTTP method", r.method))?,
        path: r.path.clone(),
        query: r.query.clone(),
        headers: header_map(r.headers.iter().map(|(n, v)| (n.as_str(), v.as_bytes())))
            .context("request headers")?,
        client_ip: Some(r.client_ip.parse().with_context(|| {
            format!("request.client_ip {:?} is not an IP address", r.client_ip)
        })?),
        request_id: request_id.to_owned(),
        uri_changed: false,
        edits: Vec::new(),
    })
}
