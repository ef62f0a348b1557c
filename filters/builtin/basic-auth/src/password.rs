//! Stored password hashes: bcrypt (`$2a$`, `$2b$`, `$2y$`) or argon2 PHC
//! strings (`$argon2id$v=19$m=…,t=…,p=…$salt$hash`), checked at load and
//! verified with the `bcrypt` and `argon2` crates.

use argon2::password_hash::PasswordHash as PhcString;
use argon2::{Argon2, PasswordVerifier};

const MAX_BCRYPT_COST: u32 = 14;

pub enum PasswordHash {
    Bcrypt(String),
    /// A PHC string whose parameters the `argon2` crate accepts.
    Argon2(String),
}

impl PasswordHash {
    pub fn parse(text: &str) -> Result<PasswordHash, String> {
        let text = text.trim();
        if ["$2a$", "$2b$", "$2y$"].iter().any(|p| text.starts_with(p)) {
            let parts: bcrypt::HashParts = text
                .parse()
                .map_err(|e| format!("not a valid bcrypt hash ({e})"))?;
            // Each step doubles the time: cost 15 already takes seconds
            // inside Wasm, far past any sensible call deadline.
            if parts.get_cost() > MAX_BCRYPT_COST {
                return Err(format!(
                    "bcrypt cost {} is over {MAX_BCRYPT_COST}: one verification would take seconds",
                    parts.get_cost()
                ));
            }
            return Ok(PasswordHash::Bcrypt(text.to_owned()));
        }
        if text.starts_with("$argon2") {
            let phc =
                PhcString::new(text).map_err(|e| format!("not a valid argon2 PHC string ({e})"))?;
            // Parameters are checked when building the hasher; do it now,
            // not on the first request.
            argon2::Params::try_from(&phc)
                .map_err(|e| format!("invalid argon2 parameters ({e})"))?;
            argon2::Algorithm::try_from(phc.algorithm)
                .map_err(|e| format!("unknown argon2 variant ({e})"))?;
            return Ok(PasswordHash::Argon2(text.to_owned()));
        }
        Err("a password hash must be bcrypt (`$2b$…`) or argon2 (`$argon2id$…`); plain passwords are not accepted".into())
    }

    /// Whether `password` matches. Slow by design (tens of milliseconds).
    /// bcrypt, like every bcrypt, only reads the first 72 bytes of a password.
    pub fn verify(&self, password: &[u8]) -> bool {
        match self {
            PasswordHash::Bcrypt(hash) => bcrypt::verify(password, hash).unwrap_or(false),
            PasswordHash::Argon2(hash) => PhcString::new(hash)
                .is_ok_and(|phc| Argon2::default().verify_password(password, &phc).is_ok()),
        }
    }
}
