//! Outbound HTTP for filters: the standard `wasi:http/outgoing-handler`, so
//! each language's usual HTTP client works inside a filter, with the grant
//! enforced here. A request to an origin outside `grants.http.allow` is
//! refused before any connection is made; timeouts are capped by the grant
//! and the response body by `max_response_bytes`.

use std::sync::Arc;

use http_body_util::{BodyExt, Limited};
use wasmtime_wasi_http::{Error, RequestOptions, WasiBody, WasiHttpHooks};
use weir_config::HttpGrant;

pub(crate) struct OutboundHttp {
    filter: Arc<str>,
    grant: Option<HttpGrant>,
}

impl OutboundHttp {
    pub(crate) fn new(filter: Arc<str>, grant: Option<HttpGrant>) -> Self {
        OutboundHttp { filter, grant }
    }

    /// The grant, if it allows this URI's origin.
    fn allowed(&self, uri: &http::Uri) -> Option<HttpGrant> {
        let grant = self.grant.as_ref()?;
        let scheme = uri.scheme_str()?;
        let host = uri.host()?;
        let host = host.trim_start_matches('[').trim_end_matches(']');
        grant
            .allow
            .iter()
            .any(|origin| origin.allows(scheme, host, uri.port_u16()))
            .then(|| grant.clone())
    }
}

type SendResult = Result<
    (
        http::Response<WasiBody>,
        Box<dyn Future<Output = Result<(), Error>> + Send>,
    ),
    Error,
>;

impl WasiHttpHooks for OutboundHttp {
    fn send_request(
        &mut self,
        request: http::Request<WasiBody>,
        options: Option<RequestOptions>,
        _response_done: Box<dyn Future<Output = Result<(), Error>> + Send>,
    ) -> Box<dyn Future<Output = SendResult> + Send> {
        let grant = self.allowed(request.uri());
        if grant.is_none() {
            tracing::warn!(filter = &*self.filter, uri = %request.uri(), "outbound request refused: origin not in grants.http.allow");
        }
        Box::new(async move {
            let grant = grant.ok_or(Error::HttpRequestDenied)?;
            let options = capped(options.unwrap_or_default(), &grant);
            let (response, io) =
                wasmtime_wasi_http::default_send_request(request, Some(options)).await?;
            let cap = grant.max_response_bytes;
            let response = response.map(|body| {
                Limited::new(body, cap as usize)
                    .map_err(move |err| match err.downcast::<Error>() {
                        Ok(err) => *err,
                        Err(_) => Error::HttpResponseBodySize(Some(cap)),
                    })
                    .boxed_unsync()
            });
            Ok((
                response,
                Box::new(io) as Box<dyn Future<Output = Result<(), Error>> + Send>,
            ))
        })
    }
}

/// The guest's timeouts, never longer than the grant's.
fn capped(options: RequestOptions, grant: &HttpGrant) -> RequestOptions {
    let cap = |asked: Option<std::time::Duration>, max| Some(asked.map_or(max, |a| a.min(max)));
    RequestOptions {
        connect_timeout: cap(options.connect_timeout, grant.connect_timeout),
        first_byte_timeout: cap(options.first_byte_timeout, grant.timeout),
        between_bytes_timeout: cap(options.between_bytes_timeout, grant.timeout),
    }
}
