//! End-to-end tests of the built-in filters (access), through the real gateway.
