//! End-to-end tests of the built-in filters (transform), through the real gateway.
