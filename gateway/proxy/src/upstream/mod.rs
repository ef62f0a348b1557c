//! Upstream pools: targets with their health, load balancing, and the
//! settings used to reach them.

mod balance;
mod health;
mod pool;
mod target;

pub use balance::{Balancer, key_hash};
pub use health::HealthChecker;
pub use pool::{BuildError, Pool};
pub use target::{InFlight, TargetState};
