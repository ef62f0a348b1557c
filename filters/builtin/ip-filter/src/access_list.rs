//! Networks and the allow/deny decision on one address.

use std::net::IpAddr;

use ipnet::IpNet;

/// Which list wins when an address is in both.
#[derive(Clone, Copy, PartialEq, Eq, Debug, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Order {
    /// Deny wins: carve exceptions out of an allowed range (allow a /16,
    /// deny one /24 in it).
    DenyFirst,
    /// Allow wins: let a few addresses through a denied range.
    AllowFirst,
}

pub struct AccessList {
    pub allow: Vec<IpNet>,
    pub deny: Vec<IpNet>,
    pub order: Order,
}

impl AccessList {
    /// Whether `client` may pass. An address in neither list passes when
    /// there is no allow list, and is refused when there is one (listing
    /// networks to allow means "only these").
    pub fn permits(&self, client: IpAddr) -> bool {
        // An IPv4 client on a dual-stack socket shows as ::ffff:a.b.c.d; the
        // lists are written with plain IPv4 networks.
        let client = client.to_canonical();
        let allowed = contains(&self.allow, client);
        let denied = contains(&self.deny, client);
        match (allowed, denied) {
            (true, true) => self.order == Order::AllowFirst,
            (true, false) => true,
            (false, true) => false,
            (false, false) => self.allow.is_empty(),
        }
    }
}

fn contains(networks: &[IpNet], ip: IpAddr) -> bool {
    networks.iter().any(|net| net.contains(&ip))
}

/// `10.0.0.0/8`, `2001:db8::/32`, or a bare address meaning just itself.
/// Host bits set (`10.0.0.1/8`) are refused: usually a typo for a /32 or a
/// misread range, and silently widening it would let strangers in.
pub fn parse_network(text: &str) -> Result<IpNet, String> {
    if let Ok(ip) = text.parse::<IpAddr>() {
        return Ok(IpNet::from(ip.to_canonical()));
    }
    let net: IpNet = text
        .parse()
        .map_err(|_| format!("{text:?} is not an IP address or CIDR network"))?;
    if net.addr() != net.network() {
        return Err(format!(
            "{text:?} has host bits set: did you mean {}?",
            net.trunc()
        ));
    }
    Ok(net)
}
