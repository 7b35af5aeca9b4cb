//! What gets shipped: each function's Lambda zip (arm64, built by `scripts/release`) and the
//! app's transfer size (WASM + JS + CSS, each file compressed on its own as a CDN would).

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::cold::{FUNCTIONS, target_dir};

type Error = Box<dyn std::error::Error + Send + Sync>;

/// Bytes of `target/lambda/<fn>/bootstrap.zip` per function.
pub fn zips() -> Result<Vec<(&'static str, u64)>, Error> {
    FUNCTIONS
        .iter()
        .map(|&f| {
            let zip = target_dir().join("lambda").join(f).join("bootstrap.zip");
            let bytes = std::fs::metadata(&zip)
                .map_err(|e| format!("{}: {e}; run scripts/release", zip.display()))?;
            Ok((f, bytes.len()))
        })
        .collect()
}

/// Total over `app/dist/*.{wasm,js,css}`: raw, gzip -9, brotli quality 11.
#[derive(Clone, Copy, Debug, Default)]
pub struct AppBytes {
    pub raw: u64,
    pub gzip: u64,
    pub brotli: u64,
}

pub fn app() -> Result<AppBytes, Error> {
    let mut files: Vec<PathBuf> = std::fs::read_dir("app/dist")
        .map_err(|e| format!("app/dist: {e}; run scripts/build"))?
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "wasm" || x == "js" || x == "css"))
        .collect();
    files.sort();
    if files.is_empty() {
        return Err("app/dist has no .wasm, .js or .css files; run scripts/build".into());
    }
    let mut total = AppBytes { brotli: brotli_total(&files)?, ..AppBytes::default() };
    for file in &files {
        total.raw += std::fs::metadata(file)?.len();
        total.gzip += gzip_bytes(file)?;
    }
    Ok(total)
}

fn gzip_bytes(file: &Path) -> Result<u64, Error> {
    let out = Command::new("gzip").args(["-9", "-c"]).arg(file).output()?;
    if !out.status.success() {
        return Err(format!("gzip {} failed", file.display()).into());
    }
    Ok(out.stdout.len() as u64)
}

/// Node's zlib has brotli (Python here has no brotli module): one process for all files.
fn brotli_total(files: &[PathBuf]) -> Result<u64, Error> {
    const SCRIPT: &str = "const z = require('zlib'), fs = require('fs'); let total = 0; \
        for (const f of process.argv.slice(1)) total += z.brotliCompressSync(fs.readFileSync(f), \
        { params: { [z.constants.BROTLI_PARAM_QUALITY]: 11 } }).length; console.log(total);";
    let out = Command::new("node").arg("-e").arg(SCRIPT).args(files).output()?;
    if !out.status.success() {
        return Err(format!("node brotli failed: {}", String::from_utf8_lossy(&out.stderr)).into());
    }
    Ok(String::from_utf8(out.stdout)?.trim().parse()?)
}
