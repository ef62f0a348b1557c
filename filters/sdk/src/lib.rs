//! Write weir filters in Rust.
//!
//! Implement [`Filter`] for a type and export it with [`export_filter!`]; the
//! crate builds into a component for `wasm32-wasip2` that weir loads:
//!
//! ```ignore
//! use weir_filter_sdk::{Config, Decision, Filter, Phases, Request, export_filter};
//!
//! struct Hello { value: String }
//!
//! impl Filter for Hello {
//!     fn new(config: Config) -> Result<Self, String> {
//!         Ok(Hello { value: config.string("value")? })
//!     }
//!     fn phases(&self) -> Phases {
//!         Phases::REQUEST_HEADERS
//!     }
//!     fn on_request_headers(&mut self, req: &Request) -> Decision {
//!         let _ = req.set_header("x-hello", self.value.as_bytes());
//!         Decision::Continue
//!     }
//! }
//!
//! export_filter!(Hello);
//! ```
//!
//! weir creates an instance, calls [`Filter::new`] once with the filter's
//! `config`, then calls the phase methods for every request the instance
//! serves. Instances are reused by later requests: reset per-request state in
//! [`Filter::on_request_headers`].

// The generated export macro names paths through this crate.
extern crate self as weir_filter_sdk;

mod config;
pub mod context;
pub mod crypto;
pub mod kv;
pub mod log;
pub mod outbound;
mod reply;
pub mod secrets;

/// The generated bindings of `wit/filter.wit`; [`export_filter!`] uses them.
#[doc(hidden)]
#[allow(clippy::too_many_arguments)] // Generated code: the lowered ABI of the exports.
pub mod bindings {
    wit_bindgen::generate!({
        world: "filter",
        path: "../../wit",
        pub_export_macro: true,
        export_macro_name: "__export_filter_world",
        default_bindings_module: "weir_filter_sdk::bindings",
        runtime_path: "weir_filter_sdk::__private::wit_bindgen::rt",
        bitflags_path: "weir_filter_sdk::__private::wit_bindgen::rt::bitflags",
    });
}

#[doc(hidden)]
pub mod __private {
    pub use wit_bindgen;

    use std::cell::RefCell;
    use std::thread::LocalKey;

    /// Runs `call` on the instance's filter, which `init` created.
    pub fn with_filter<F: 'static, R>(
        cell: &'static LocalKey<RefCell<Option<F>>>,
        call: impl FnOnce(&mut F) -> R,
    ) -> R {
        cell.with(|slot| {
            let mut slot = slot.borrow_mut();
            let filter = slot.as_mut().expect("weir called a phase before init");
            call(filter)
        })
    }
}

pub use bindings::weir::filter::http::{Request, Response};
pub use bindings::weir::filter::types::{
    Decision, Level, LogInfo, Phases, RequestBodyDecision, Response as LocalResponse,
    ResponseBodyDecision,
};
pub use config::Config;
pub use reply::{ReplyBuilder, respond};
pub use serde_json;

/// A weir filter. Every phase method has a default that lets the request go
/// on unchanged; override the ones listed in [`Filter::phases`].
pub trait Filter: Sized + 'static {
    /// Builds the filter from its `config` (from weir's config file). An
    /// error rejects the config: `weir check` and reloads report the message.
    fn new(config: Config) -> Result<Self, String>;

    /// The phases weir calls. Phases not listed cost nothing, and request or
    /// response bodies are only buffered when a filter lists a body phase.
    fn phases(&self) -> Phases;

    /// Request headers arrived and a route matched. Edit the request through
    /// `req`, or answer with [`respond`].
    fn on_request_headers(&mut self, req: &Request) -> Decision {
        let _ = req;
        Decision::Continue
    }

    /// The whole request body (up to the filter's `max_body_bytes`).
    fn on_request_body(&mut self, req: &Request, body: Vec<u8>) -> RequestBodyDecision {
        let _ = (req, body);
        RequestBodyDecision::Continue
    }

    /// The response status and headers, in reverse chain order.
    fn on_response_headers(&mut self, req: &Request, resp: &Response) -> Decision {
        let _ = (req, resp);
        Decision::Continue
    }

    /// The whole response body (up to the filter's `max_body_bytes`).
    fn on_response_body(
        &mut self,
        req: &Request,
        resp: &Response,
        body: Vec<u8>,
    ) -> ResponseBodyDecision {
        let _ = (req, resp, body);
        ResponseBodyDecision::Continue
    }

    /// After the response went out; edits are ignored.
    fn on_log(&mut self, req: &Request, resp: &Response, info: &LogInfo) {
        let _ = (req, resp, info);
    }
}

impl Request {
    /// The first value of a header as text (lossy UTF-8).
    pub fn header_str(&self, name: &str) -> Option<String> {
        self.header(name)
            .map(|v| String::from_utf8_lossy(&v).into_owned())
    }
}

impl Response {
    /// The first value of a header as text (lossy UTF-8).
    pub fn header_str(&self, name: &str) -> Option<String> {
        self.header(name)
            .map(|v| String::from_utf8_lossy(&v).into_owned())
    }
}

/// Exports a [`Filter`] implementation as the component's `weir:filter` world.
/// Use it once per crate.
#[macro_export]
macro_rules! export_filter {
    ($filter:ty) => {
        const _: () = {
            ::std::thread_local! {
                static FILTER: ::core::cell::RefCell<::core::option::Option<$filter>> =
                    const { ::core::cell::RefCell::new(::core::option::Option::None) };
            }

            struct Exports;

            impl $crate::bindings::Guest for Exports {
                fn init(
                    config: ::std::string::String,
                ) -> ::core::result::Result<$crate::Phases, ::std::string::String> {
                    let config = $crate::Config::parse(&config)?;
                    let filter = <$filter as $crate::Filter>::new(config)?;
                    let phases = $crate::Filter::phases(&filter);
                    FILTER.with(|slot| *slot.borrow_mut() = ::core::option::Option::Some(filter));
                    ::core::result::Result::Ok(phases)
                }

                fn on_request_headers(req: &$crate::Request) -> $crate::Decision {
                    $crate::__private::with_filter(&FILTER, |f| {
                        $crate::Filter::on_request_headers(f, req)
                    })
                }

                fn on_request_body(
                    req: &$crate::Request,
                    body: ::std::vec::Vec<u8>,
                ) -> $crate::RequestBodyDecision {
                    $crate::__private::with_filter(&FILTER, |f| {
                        $crate::Filter::on_request_body(f, req, body)
                    })
                }

                fn on_response_headers(
                    req: &$crate::Request,
                    resp: &$crate::Response,
                ) -> $crate::Decision {
                    $crate::__private::with_filter(&FILTER, |f| {
                        $crate::Filter::on_response_headers(f, req, resp)
                    })
                }

                fn on_response_body(
                    req: &$crate::Request,
                    resp: &$crate::Response,
                    body: ::std::vec::Vec<u8>,
                ) -> $crate::ResponseBodyDecision {
                    $crate::__private::with_filter(&FILTER, |f| {
                        $crate::Filter::on_response_body(f, req, resp, body)
                    })
                }

                fn on_log(req: &$crate::Request, resp: &$crate::Response, info: $crate::LogInfo) {
                    $crate::__private::with_filter(&FILTER, |f| {
                        $crate::Filter::on_log(f, req, resp, &info)
                    })
                }
            }

            $crate::bindings::__export_filter_world!(Exports);
        };
    };
}
