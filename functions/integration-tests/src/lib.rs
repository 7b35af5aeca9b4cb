//! Tests only: see `tests/api.rs`.
