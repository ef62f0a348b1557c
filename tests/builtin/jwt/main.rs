//! End-to-end tests of the built-in filters (jwt), through the real gateway.
