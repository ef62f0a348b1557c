//! Building the response a filter answers with.

use crate::{Decision, LocalResponse, RequestBodyDecision};

/// Starts a response with `status`; turn it into a decision with `.into()`:
///
/// ```ignore
/// return respond(401).header("www-authenticate", "Bearer").text("missing token").into();
/// ```
pub fn respond(status: u16) -> ReplyBuilder {
    ReplyBuilder(LocalResponse {
        status,
        headers: Vec::new(),
        body: Vec::new(),
    })
}

/// A response under construction; see [`respond`].
#[derive(Debug, Clone)]
pub struct ReplyBuilder(LocalResponse);

impl ReplyBuilder {
    /// Adds a header (weir refuses invalid names and values with CR, LF or NUL).
    pub fn header(mut self, name: &str, value: impl Into<Vec<u8>>) -> Self {
        self.0
            .headers
            .push((name.to_ascii_lowercase(), value.into()));
        self
    }

    /// Sets the body as is.
    pub fn body(mut self, body: impl Into<Vec<u8>>) -> Self {
        self.0.body = body.into();
        self
    }

    /// A `text/plain` body.
    pub fn text(self, text: &str) -> Self {
        self.header("content-type", "text/plain; charset=utf-8")
            .body(text)
    }

    /// An `application/json` body.
    pub fn json(self, value: &serde_json::Value) -> Self {
        self.header("content-type", "application/json")
            .body(value.to_string())
    }

    pub fn build(self) -> LocalResponse {
        self.0
    }
}

impl From<ReplyBuilder> for Decision {
    fn from(reply: ReplyBuilder) -> Decision {
        Decision::Respond(reply.0)
    }
}

impl From<ReplyBuilder> for RequestBodyDecision {
    fn from(reply: ReplyBuilder) -> RequestBodyDecision {
        RequestBodyDecision::Respond(reply.0)
    }
}
