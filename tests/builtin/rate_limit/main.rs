//! End-to-end tests of the built-in filters (rate_limit), through the real gateway.
