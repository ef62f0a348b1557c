//! The filter's `config`, as written in weir's config file. Only the shape is
//! checked here (serde); `Filter::new` turns it into the checked runtime form
//! and rejects everything that cannot work.

use std::time::Duration;

use serde::{Deserialize, Deserializer};
use serde_json::Value;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    /// Who may issue tokens; a token's `iss` picks exactly one of them.
    pub providers: Vec<ProviderSettings>,
    /// Where to look for the token, in order; the first place that has one wins.
    #[serde(default = "default_sources")]
    pub tokens: Vec<TokenSource>,
    /// Claims copied into request headers and the request context.
    #[serde(default)]
    pub forward: Vec<ForwardSettings>,
    /// The `realm` of the `WWW-Authenticate` challenge.
    #[serde(default = "default_realm")]
    pub realm: String,
    /// Clock skew tolerated on `exp` and `nbf`.
    #[serde(default = "default_leeway", deserialize_with = "duration")]
    pub leeway: Duration,
    /// Tokens without `exp` are refused unless this is false.
    #[serde(default = "yes")]
    pub require_exp: bool,
    /// Longer tokens are refused before any parsing.
    #[serde(default = "default_max_token_bytes")]
    pub max_token_bytes: usize,
    /// Tokens verified recently, kept per instance (see cache.rs).
    #[serde(default)]
    pub cache: CacheSettings,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CacheSettings {
    /// Tokens kept per instance; 0 verifies every token on every request.
    #[serde(default = "default_cache_entries")]
    pub max_entries: usize,
    /// Longest time a verified token is accepted without a new check.
    #[serde(default = "default_cache_ttl", deserialize_with = "duration")]
    pub ttl: Duration,
}

impl Default for CacheSettings {
    fn default() -> Self {
        CacheSettings {
            max_entries: default_cache_entries(),
            ttl: default_cache_ttl(),
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProviderSettings {
    /// The exact `iss` of this provider's tokens.
    pub issuer: String,
    /// A token's `aud` must contain at least one of these.
    pub audiences: Vec<String>,
    /// The algorithms accepted from this provider, e.g. `[RS256]`. No default:
    /// what a provider signs with is a decision, not a guess.
    pub algorithms: Vec<String>,
    /// Where the verification keys come from.
    pub keys: KeySource,
}

/// Exactly one source of keys per provider.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum KeySource {
    /// An HMAC secret: the name of a weir secret granted to the filter.
    Secret(String),
    /// A PEM public key (SPKI or PKCS#1) at a path under `grants.files`.
    PemFile(String),
    /// One public JWK, inline.
    Jwk(Value),
    /// A JWK Set (`{"keys": [...]}`), inline.
    Jwks(Value),
    /// A JWK Set fetched over HTTP (`grants.http`) and cached.
    JwksUrl(JwksUrlSettings),
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JwksUrlSettings {
    pub url: String,
    /// Age after which the next request refreshes the cached set.
    #[serde(default = "default_refresh_interval", deserialize_with = "duration")]
    pub refresh_interval: Duration,
    /// Least time between two fetches of any kind (refresh, unknown `kid`,
    /// retry after a failure): bounds what tokens with made-up `kid`s or a
    /// dead endpoint can cost.
    #[serde(
        default = "default_min_refetch_interval",
        deserialize_with = "duration"
    )]
    pub min_refetch_interval: Duration,
    /// Time to the response's first byte (also capped by `grants.http.timeout`).
    #[serde(default = "default_fetch_timeout", deserialize_with = "duration")]
    pub timeout: Duration,
}

/// One place a token may be carried.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum TokenSource {
    /// A request header. With `scheme` (e.g. `Bearer`), the value must start
    /// with it and a space; without, the whole value is the token.
    Header {
        name: String,
        #[serde(default)]
        scheme: Option<String>,
    },
    /// A cookie of this name.
    Cookie(String),
    /// A query parameter of this name.
    Query(String),
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ForwardSettings {
    /// A top-level claim name, e.g. `sub`.
    pub claim: String,
    /// The request header to set from it.
    #[serde(default)]
    pub header: Option<String>,
    /// The context key to set from it.
    #[serde(default)]
    pub context: Option<String>,
}

fn default_sources() -> Vec<TokenSource> {
    vec![TokenSource::Header {
        name: "authorization".into(),
        scheme: Some("Bearer".into()),
    }]
}

fn default_realm() -> String {
    "weir".into()
}

fn default_leeway() -> Duration {
    Duration::from_secs(30)
}

fn yes() -> bool {
    true
}

fn default_max_token_bytes() -> usize {
    8 * 1024
}

fn default_cache_entries() -> usize {
    1024
}

fn default_cache_ttl() -> Duration {
    Duration::from_secs(60)
}

fn default_refresh_interval() -> Duration {
    Duration::from_secs(300)
}

fn default_min_refetch_interval() -> Duration {
    Duration::from_secs(10)
}

fn default_fetch_timeout() -> Duration {
    Duration::from_secs(2)
}

/// A duration written as a number and a unit: `500ms`, `30s`, `5m`, `1h`.
fn duration<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Duration, D::Error> {
    let text = String::deserialize(deserializer)?;
    parse_duration(&text).ok_or_else(|| {
        serde::de::Error::custom(format!(
            "invalid duration {text:?}: expected a number and a unit (ms, s, m, h), e.g. \"30s\""
        ))
    })
}

fn parse_duration(text: &str) -> Option<Duration> {
    let text = text.trim();
    let digits = text.find(|c: char| !c.is_ascii_digit())?;
    let (number, unit) = text.split_at(digits);
    let number: u64 = number.parse().ok()?;
    let millis = match unit.trim() {
        "ms" => number,
        "s" => number.checked_mul(1_000)?,
        "m" => number.checked_mul(60_000)?,
        "h" => number.checked_mul(3_600_000)?,
        _ => return None,
    };
    Some(Duration::from_millis(millis))
}
