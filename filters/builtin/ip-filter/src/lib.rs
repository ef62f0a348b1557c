//! `ip-filter`: allow and deny lists of networks on the client address.
//!
//! The address is `Request::client_ip()`: the TCP peer, or, when the peer is
//! one of the listener's `trusted_proxies`, the right-most address of
//! `X-Forwarded-For` that is not itself a trusted proxy. A refused request
//! gets 403 (status and body configurable) and never reaches the upstream.
//! See `docs/filters/ip-filter.md`.

mod access_list;

use std::net::IpAddr;

use serde::Deserialize;
use weir_filter_sdk::{Config, Decision, Filter, Phases, Request, export_filter, log, respond};

use crate::access_list::{AccessList, Order, parse_network};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Settings {
    #[serde(default)]
    allow: Vec<String>,
    #[serde(default)]
    deny: Vec<String>,
    #[serde(default = "default_order")]
    order: Order,
    #[serde(default = "default_status")]
    status: u16,
    #[serde(default = "default_body")]
    body: String,
}

fn default_order() -> Order {
    Order::DenyFirst
}

fn default_status() -> u16 {
    403
}

fn default_body() -> String {
    "forbidden\n".into()
}

struct IpFilter {
    list: AccessList,
    status: u16,
    body: String,
}

impl Filter for IpFilter {
    fn new(config: Config) -> Result<Self, String> {
        let settings: Settings = config.deserialize()?;
        let parse_all = |field: &str, entries: &[String]| {
            entries
                .iter()
                .enumerate()
                .map(|(i, entry)| parse_network(entry).map_err(|e| format!("{field}[{i}]: {e}")))
                .collect::<Result<Vec<_>, String>>()
        };
        let list = AccessList {
            allow: parse_all("allow", &settings.allow)?,
            deny: parse_all("deny", &settings.deny)?,
            order: settings.order,
        };
        if list.allow.is_empty() && list.deny.is_empty() {
            return Err(
                "give `allow`, `deny` or both: with neither the filter lets everyone through"
                    .into(),
            );
        }
        if !(400..=599).contains(&settings.status) {
            return Err(format!(
                "config field \"status\": {} is not an error status (400-599)",
                settings.status
            ));
        }
        Ok(IpFilter {
            list,
            status: settings.status,
            body: settings.body,
        })
    }

    fn phases(&self) -> Phases {
        Phases::REQUEST_HEADERS
    }

    fn on_request_headers(&mut self, req: &Request) -> Decision {
        let client = req.client_ip();
        let permitted = match client.parse::<IpAddr>() {
            Ok(ip) => self.list.permits(ip),
            Err(_) => {
                // weir always knows the peer on TCP; fail closed if it ever does not.
                log::warn(&format!(
                    "client address {client:?} is not an IP address: refused"
                ));
                false
            }
        };
        if permitted {
            return Decision::Continue;
        }
        respond(self.status).text(&self.body).into()
    }
}

export_filter!(IpFilter);
