//! Human units in the config file: durations (`250ms`, `5s`, `1m`) and byte
//! sizes (`512`, `64KiB`, `10MiB`, `1GB`).

use std::borrow::Cow;
use std::time::Duration;

use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::{Deserialize, Deserializer};

/// A duration written as text, e.g. `250ms`, `5s`, `1m 30s`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HumanDuration(pub Duration);

/// A byte size: a plain number of bytes or a number with a unit
/// (`KiB`, `MiB`, `GiB` powers of 1024; `KB`, `MB`, `GB` powers of 1000).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ByteSize(pub u64);

pub fn parse_duration(text: &str) -> Result<Duration, String> {
    humantime::parse_duration(text.trim())
        .map_err(|e| format!("invalid duration {text:?} ({e}); write e.g. 250ms, 5s, 1m"))
}

pub fn parse_size(text: &str) -> Result<u64, String> {
    let text = text.trim();
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let invalid = || format!("invalid size {text:?}; write e.g. 512, 64KiB, 10MiB");
    let number: u64 = number.parse().map_err(|_| invalid())?;
    let multiplier: u64 = match unit.trim() {
        "" | "B" => 1,
        "KB" => 1_000,
        "MB" => 1_000_000,
        "GB" => 1_000_000_000,
        "KiB" => 1 << 10,
        "MiB" => 1 << 20,
        "GiB" => 1 << 30,
        _ => return Err(invalid()),
    };
    number
        .checked_mul(multiplier)
        .ok_or_else(|| format!("size {text:?} is too large"))
}

impl<'de> Deserialize<'de> for HumanDuration {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        parse_duration(&text)
            .map(HumanDuration)
            .map_err(serde::de::Error::custom)
    }
}

impl<'de> Deserialize<'de> for ByteSize {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        parse_size(&text)
            .map(ByteSize)
            .map_err(serde::de::Error::custom)
    }
}

impl JsonSchema for HumanDuration {
    fn schema_name() -> Cow<'static, str> {
        "Duration".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "type": "string",
            "description": "A duration: a number and a unit (ms, s, m, h), e.g. 250ms, 5s, 1m 30s.",
            "pattern": "^\\s*[0-9]+\\s*[a-z]+(\\s*[0-9]+\\s*[a-z]+)*\\s*$"
        })
    }
}

impl JsonSchema for ByteSize {
    fn schema_name() -> Cow<'static, str> {
        "ByteSize".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "description": "A size in bytes: a number, optionally with a unit (KiB, MiB, GiB or KB, MB, GB), e.g. 64KiB.",
            "anyOf": [
                { "type": "integer", "minimum": 0 },
                { "type": "string", "pattern": "^\\s*[0-9]+\\s*(B|KB|MB|GB|KiB|MiB|GiB)?\\s*$" }
            ]
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("250ms"), Ok(Duration::from_millis(250)));
        assert_eq!(parse_duration("5s"), Ok(Duration::from_secs(5)));
        assert_eq!(parse_duration("1m 30s"), Ok(Duration::from_secs(90)));
        assert!(parse_duration("5").is_err(), "a unit is required");
        assert!(parse_duration("soon").is_err());
        assert!(parse_duration("-1s").is_err());
        assert!(parse_duration("").is_err());
        assert!(parse_duration("5 parsecs").is_err());
        assert_eq!(
            parse_duration("0s"),
            Ok(Duration::ZERO),
            "ranges are checked later"
        );
        assert_eq!(parse_duration(" 2h "), Ok(Duration::from_secs(7200)));
    }

    #[test]
    fn units_deserialize_from_yaml_scalars() {
        let node = marked_yaml::parse_yaml(0, "d: 250ms\ns: 64KiB\nn: 512\n").unwrap();
        #[derive(serde::Deserialize)]
        struct Units {
            d: HumanDuration,
            s: ByteSize,
            n: ByteSize,
        }
        let units: Units = marked_yaml::from_node(&node).unwrap();
        assert_eq!(units.d, HumanDuration(Duration::from_millis(250)));
        assert_eq!(units.s, ByteSize(64 * 1024));
        assert_eq!(units.n, ByteSize(512));
    }

    #[test]
    fn sizes() {
        assert_eq!(parse_size("512"), Ok(512));
        assert_eq!(parse_size("64KiB"), Ok(64 * 1024));
        assert_eq!(parse_size("10MiB"), Ok(10 << 20));
        assert_eq!(parse_size("1GiB"), Ok(1 << 30));
        assert_eq!(parse_size("1KB"), Ok(1000));
        assert_eq!(parse_size("2 MB"), Ok(2_000_000));
        assert!(parse_size("10 parsecs").is_err());
        assert!(parse_size("KiB").is_err());
        assert!(parse_size("-1KiB").is_err());
        assert!(parse_size("99999999999999999999GiB").is_err());
        assert_eq!(parse_size("18446744073709551615"), Ok(u64::MAX));
        assert!(parse_size("17179869184GiB").is_err(), "overflows u64");
        assert_eq!(parse_size("3GB"), Ok(3_000_000_000));
        assert_eq!(parse_size("4MB"), Ok(4_000_000));
        assert_eq!(parse_size("7B"), Ok(7));
        assert!(parse_size("").is_err());
        assert!(parse_size("1.5MiB").is_err(), "whole numbers only");
        assert!(parse_size("64kib").is_err(), "units are case-sensitive");
        assert!(parse_size("64 KiB KiB").is_err());
    }
}
