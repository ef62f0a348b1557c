//! The baseline of weir's benchmarks (`bench/run.sh`): the least a Pingora
//! proxy does. One listener, one upstream peer, no filters, no logging, one
//! worker thread, mimalloc as weir has. Whatever weir costs beyond this is
//! weir's own.
//!
//! ```sh
//! pingora-bare 127.0.0.1:8080 127.0.0.1:9001
//! ```

use async_trait::async_trait;
use pingora::prelude::*;
use pingora::server::configuration::ServerConf;

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

struct Bare {
    upstream: String,
}

#[async_trait]
impl ProxyHttp for Bare {
    type CTX = ();

    fn new_ctx(&self) -> Self::CTX {}

    async fn upstream_peer(&self, _session: &mut Session, _ctx: &mut ()) -> Result<Box<HttpPeer>> {
        Ok(Box::new(HttpPeer::new(
            self.upstream.as_str(),
            false,
            String::new(),
        )))
    }
}

fn main() {
    let mut args = std::env::args().skip(1);
    let (Some(listen), Some(upstream)) = (args.next(), args.next()) else {
        eprintln!("usage: pingora-bare LISTEN_ADDR UPSTREAM_ADDR [--no-work-stealing]");
        std::process::exit(2);
    };
    let conf = ServerConf {
        threads: 1,
        work_stealing: args.next().as_deref() != Some("--no-work-stealing"),
        ..ServerConf::default()
    };
    let mut server = Server::new_with_opt_and_conf(None, conf);
    server.bootstrap();
    let mut proxy = http_proxy_service(&server.configuration, Bare { upstream });
    proxy.add_tcp(&listen);
    server.add_service(proxy);
    server.run_forever();
}
