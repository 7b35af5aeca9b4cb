//! Helpers for the local stack and the tests: the table comes from `infra/template.yaml` (the one
//! definition), and the demo accounts are seeded through `store`.

pub mod age;
pub mod rotate;
pub mod seed;
pub mod table;

/// `infra/template.yaml` in this checkout.
pub fn template_path() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../infra/template.yaml")
}
