//! Tests only: see `tests/api/main.rs`.
