//! What runs beside the request path and steers it: the reloader, the admin
//! endpoint, the listeners' services and TLS handshakes, upstream health
//! checks and shutdown. Only the binary uses this folder.

pub mod admin;
mod admin_views;
pub mod health;
pub mod reload;
pub mod service;
pub mod shutdown;
mod tls;
