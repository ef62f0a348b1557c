//! The Redis backend's commands, each one atomic on the server.

use std::sync::LazyLock;
use std::time::Duration;

use redis::{Script, Value};

use crate::KvError;
use crate::gcra::{Gcra, Throttle};
use crate::limits::ttl_millis;
use crate::remote::RedisStore;

/// GET, compare, then SET (with PX when there is a TTL). A script, so no
/// other client's write can land between the compare and the set. Lua
/// strings are byte strings, so binary values compare exactly; a missing key
/// reads as `false`, never equal to a string.
static COMPARE_AND_SWAP: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
if ARGV[3] == '' then
  redis.call('SET', KEYS[1], ARGV[2])
else
  redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
end
return 1",
    )
});

/// One GCRA step (see gcra.rs) on the server's clock, so every weir instance
/// agrees on time. The key holds the theoretical arrival time in
/// microseconds since the Unix epoch (exact in Lua's doubles until the year
/// 2255); a value that is not a number counts as no state. Returns
/// {allowed, microseconds the arrival time is ahead of now afterwards}.
static THROTTLE: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local interval, window, cost = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local tat = tonumber(redis.call('GET', KEYS[1]) or '') or 0
local used = math.max(tat - now, 0)
local after = used + interval * cost
if after <= window then
  redis.call('SET', KEYS[1], string.format('%.0f', now + after), 'PX', math.max(1, math.ceil(after / 1000)))
  return {1, after}
end
return {0, used}",
    )
});

/// SET's arguments after key and value: a TTL in milliseconds, if any.
fn px(cmd: &mut redis::Cmd, ttl: Option<Duration>) {
    if let Some(ttl) = ttl {
        cmd.arg("PX").arg(ttl_millis(ttl));
    }
}

impl RedisStore {
    pub async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, KvError> {
        let cmd = redis::cmd("GET").arg(self.key(key)).to_owned();
        self.run(|mut c| async move { cmd.query_async(&mut c).await })
            .await
    }

    pub async fn set(&self, key: &str, value: &[u8], ttl: Option<Duration>) -> Result<(), KvError> {
        let mut cmd = redis::cmd("SET");
        cmd.arg(self.key(key)).arg(value);
        px(&mut cmd, ttl);
        self.run(|mut c| async move { cmd.query_async(&mut c).await })
            .await
    }

    pub async fn delete(&self, key: &str) -> Result<bool, KvError> {
        let cmd = redis::cmd("DEL").arg(self.key(key)).to_owned();
        let removed: u64 = self
            .run(|mut c| async move { cmd.query_async(&mut c).await })
            .await?;
        Ok(removed > 0)
    }

    /// `SET key 0 NX PX ttl` then `INCRBY` in one MULTI: the TTL lands only
    /// when the key is created, an existing key keeps its expiry (or lack of
    /// one), and the count comes back as an exact integer (a Lua script would
    /// round it through a double). Works on any Redis >= 2.6.12.
    pub async fn increment(
        &self,
        key: &str,
        delta: i64,
        ttl: Option<Duration>,
    ) -> Result<i64, KvError> {
        let key = self.key(key);
        let mut pipe = redis::pipe();
        pipe.atomic();
        if let Some(ttl) = ttl {
            pipe.cmd("SET")
                .arg(&key)
                .arg(0)
                .arg("NX")
                .arg("PX")
                .arg(ttl_millis(ttl))
                .ignore();
        }
        pipe.cmd("INCRBY").arg(&key).arg(delta);
        let (count,): (i64,) = self
            .run(|mut c| async move { pipe.query_async(&mut c).await })
            .await?;
        Ok(count)
    }

    pub async fn throttle(&self, key: &str, gcra: Gcra, cost: u64) -> Result<Throttle, KvError> {
        let key = self.key(key);
        let (allowed, used): (i64, u64) = self
            .run(|mut c| async move {
                THROTTLE
                    .key(key)
                    .arg(gcra.interval_us)
                    .arg(gcra.window_us)
                    .arg(cost)
                    .invoke_async(&mut c)
                    .await
            })
            .await?;
        Ok(if allowed == 1 {
            gcra.answer(true, used, 0)
        } else {
            let retry = (used + gcra.interval_us * cost).saturating_sub(gcra.window_us);
            gcra.answer(false, used, retry)
        })
    }

    pub async fn compare_and_swap(
        &self,
        key: &str,
        expected: Option<&[u8]>,
        value: &[u8],
        ttl: Option<Duration>,
    ) -> Result<bool, KvError> {
        let key = self.key(key);
        let value = value.to_vec();
        let Some(expected) = expected else {
            // Only if absent: plain SET NX is atomic already.
            let mut cmd = redis::cmd("SET");
            cmd.arg(&key).arg(&value).arg("NX");
            px(&mut cmd, ttl);
            let reply: Value = self
                .run(|mut c| async move { cmd.query_async(&mut c).await })
                .await?;
            return Ok(matches!(reply, Value::Okay));
        };
        let expected = expected.to_vec();
        let ttl_arg = ttl.map(|t| ttl_millis(t).to_string()).unwrap_or_default();
        let set: i64 = self
            .run(|mut c| async move {
                COMPARE_AND_SWAP
                    .key(key)
                    .arg(expected)
                    .arg(value)
                    .arg(ttl_arg)
                    .invoke_async(&mut c)
                    .await
            })
            .await?;
        Ok(set == 1)
    }
}
