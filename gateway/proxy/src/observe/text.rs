//! Text on the request path without `fmt`: integers and IP addresses, which
//! weir writes on every request (access log lines, `X-Forwarded-For`).

use std::io::Write;
use std::net::IpAddr;

/// Decimal digits of `n`.
pub(crate) fn int(out: &mut Vec<u8>, mut n: u64) {
    let mut digits = [0u8; 20];
    let mut i = digits.len();
    loop {
        i -= 1;
        digits[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    out.extend_from_slice(&digits[i..]);
}

/// IPv4 by hand; IPv6 through `fmt`, which knows its compression rules.
pub(crate) fn ip_text(out: &mut Vec<u8>, ip: IpAddr) {
    match ip {
        IpAddr::V4(v4) => {
            for (i, octet) in v4.octets().into_iter().enumerate() {
                if i > 0 {
                    out.push(b'.');
                }
                int(out, octet.into());
            }
        }
        IpAddr::V6(v6) => {
            let _ = write!(out, "{v6}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_print_as_std_prints_them() {
        for text in [
            "0.0.0.0",
            "10.0.200.1",
            "255.255.255.255",
            "::1",
            "2001:db8::8:800:200c:417a",
        ] {
            let ip: IpAddr = text.parse().unwrap();
            let mut out = Vec::new();
            ip_text(&mut out, ip);
            assert_eq!(String::from_utf8(out).unwrap(), ip.to_string());
        }
    }

    #[test]
    fn integers_print_as_std_prints_them() {
        for n in [0, 7, 10, 999, 1_000_000, u64::MAX] {
            let mut out = Vec::new();
            int(&mut out, n);
            assert_eq!(String::from_utf8(out).unwrap(), n.to_string());
        }
    }
}
