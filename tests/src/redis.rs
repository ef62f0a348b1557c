//! A real `redis-server` on an ephemeral loopback port, for tests that need
//! a shared store. It can be stopped and started again on the same port, to
//! test what weir does while Redis is down and after it comes back.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use crate::{free_port, wait_until};

pub struct RedisServer {
    child: Option<Child>,
    pub port: u16,
}

impl RedisServer {
    /// Starts `redis-server` (installed by `scripts/setup.sh`) and waits
    /// until it answers PING.
    pub fn start() -> RedisServer {
        Self::start_on(free_port())
    }

    /// Starts it on a given port (one a gateway was configured with earlier).
    pub fn start_on(port: u16) -> RedisServer {
        let mut server = RedisServer { child: None, port };
        server.restart();
        server
    }

    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/0", self.port)
    }

    /// Kills the server (SIGKILL: connections drop without a goodbye).
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
        wait_until(Duration::from_secs(10), "redis to stop answering", || {
            !self.answers_ping()
        });
    }

    /// Starts the server again on the same port.
    pub fn restart(&mut self) {
        self.stop();
        let child = Command::new("redis-server")
            .args(["--port", &self.port.to_string()])
            .args(["--bind", "127.0.0.1", "--save", "", "--appendonly", "no"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("starting redis-server (scripts/setup.sh installs it)");
        self.child = Some(child);
        wait_until(Duration::from_secs(10), "redis to answer PING", || {
            self.answers_ping()
        });
    }

    fn answers_ping(&self) -> bool {
        let Ok(mut conn) = TcpStream::connect(("127.0.0.1", self.port)) else {
            return false;
        };
        let _ = conn.set_read_timeout(Some(Duration::from_millis(500)));
        let mut reply = [0u8; 7];
        conn.write_all(b"PING\r\n").is_ok()
            && conn.read_exact(&mut reply).is_ok()
            && &reply == b"+PONG\r\n"
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}
