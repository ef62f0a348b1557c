//! Logs what the log phase receives.

use weir_filter_sdk::{Config, Filter, LogInfo, Phases, Request, Response, export_filter, log};

struct LogFilter;

impl Filter for LogFilter {
    fn new(_config: Config) -> Result<Self, String> {
        Ok(LogFilter)
    }

    fn phases(&self) -> Phases {
        Phases::LOG
    }

    fn on_log(&mut self, _req: &Request, _resp: &Response, info: &LogInfo) {
        log::info(&format!(
            "request done: status={} req_bytes={} resp_bytes={} route={}",
            info.status,
            info.request_body_bytes,
            info.response_body_bytes,
            info.route.as_deref().unwrap_or("-"),
        ));
    }
}

export_filter!(LogFilter);
