//! Upstream pools: targets with their health, load balancing, and the
//! settings and retry policy used to reach them.

mod attempt;
mod balance;
mod pool;
mod target;

pub use attempt::{hash_key, may_retry_after_error, peer, retry_after_connect_failure};
pub use balance::{Balancer, key_hash};
pub use pool::{BuildError, Pool};
pub use target::{InFlight, TargetState};
