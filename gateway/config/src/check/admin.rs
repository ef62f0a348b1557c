//! Checks of the `admin` section.

use std::net::SocketAddr;

use super::checker::Checker;
use crate::model::Admin;
use crate::parse::ConfigPath;
use crate::schema::Section;

pub(super) fn admin(c: &mut Checker) -> Option<Admin> {
    let file = c.doc.admin.as_ref()?;
    let text = file.address.as_deref().unwrap_or("127.0.0.1:9900");
    match text.parse::<SocketAddr>() {
        Ok(address) => Some(Admin {
            address,
            metrics: file.metrics.unwrap_or(true),
        }),
        Err(_) => {
            c.error(
                &ConfigPath::section(Section::Admin).key("address"),
                format!("invalid address {text:?}; expected ip:port"),
            );
            None
        }
    }
}
