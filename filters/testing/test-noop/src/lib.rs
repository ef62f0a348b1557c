//! Does nothing, in the phases listed in `phases` (default: all five). With
//! `reject`, `init` refuses the config with that message. Used to measure the
//! cost of a call and to test config rejection.

use serde::Deserialize;
use weir_filter_sdk::{Config, Filter, Phases, export_filter};

#[derive(Deserialize, Default)]
#[serde(default)]
struct Settings {
    phases: Option<Vec<String>>,
    reject: Option<String>,
}

struct Noop {
    phases: Phases,
}

impl Filter for Noop {
    fn new(config: Config) -> Result<Self, String> {
        let settings: Settings = if config.value().is_null() {
            Settings::default()
        } else {
            config.deserialize()?
        };
        if let Some(message) = settings.reject {
            return Err(message);
        }
        let phases = match settings.phases {
            None => Phases::all(),
            Some(names) => names.iter().try_fold(Phases::empty(), |acc, name| {
                let phase = match name.as_str() {
                    "request-headers" => Phases::REQUEST_HEADERS,
                    "request-body" => Phases::REQUEST_BODY,
                    "response-headers" => Phases::RESPONSE_HEADERS,
                    "response-body" => Phases::RESPONSE_BODY,
                    "log" => Phases::LOG,
                    other => return Err(format!("unknown phase {other:?}")),
                };
                Ok(acc | phase)
            })?,
        };
        Ok(Noop { phases })
    }

    fn phases(&self) -> Phases {
        self.phases
    }
}

export_filter!(Noop);
