//! The figures, as a table for people and as `target/bench/summary.json` for tools.

use serde_json::{Map, Value, json};

use crate::calls::Counted;
use crate::latency::Percentiles;
use crate::logins::Throughput;
use crate::sizes::AppBytes;

pub struct Figures {
    /// Bare argon2id verifications per CPU second: the ceiling a login can approach, as every
    /// login verifies one password.
    pub argon2_per_cpu_second: f64,
    /// Logins without 2FA at concurrency 1: CPU rate compared with argon2's, wall rate with c2's.
    pub login: Throughput,
    /// The same at concurrency 2: on 2 cores, ideally twice c1's wall rate.
    pub login_c2: Throughput,
    /// Logins with password and passcode: compared with `login` (the passcode step's extra cost).
    pub login_2fa: Throughput,
    /// Calls without argon2, so DynamoDB round trips dominate; the grid reads a whole account.
    pub latency: Vec<(&'static str, Percentiles)>,
    /// Compared with the counts in the README's Measurements section (the budgeted steps); the
    /// grid's read units with the 0.5 unit a 4 KB eventually consistent read costs.
    pub calls: Vec<Counted>,
    /// Lambda's init phase: compared with its 10 s limit and with the first request's latency.
    pub cold_init_ms: Vec<(&'static str, f64)>,
    /// Compared with Lambda's 50 MB limit for a zip upload.
    pub zip_bytes: Vec<(&'static str, u64)>,
    /// What every browser downloads on its first visit.
    pub app: AppBytes,
}

fn round(value: f64, places: i32) -> f64 {
    let scale = 10f64.powi(places);
    (value * scale).round() / scale
}

fn object<T>(pairs: impl IntoIterator<Item = (impl Into<String>, T)>, value: impl Fn(T) -> Value) -> Value {
    Value::Object(pairs.into_iter().map(|(k, v)| (k.into(), value(v))).collect::<Map<_, _>>())
}

/// The summary file's content: exactly the agreed top-level keys.
pub fn summary(f: &Figures) -> Value {
    let mut calls = object(f.calls.iter().map(|c| (c.step, c.operations.len())), |n| json!(n));
    let grid = f.calls.iter().find(|c| c.step == "grid_page_5000");
    calls["grid_page_5000_read_units"] = json!(grid.and_then(|c| c.read_units).map(|u| round(u, 1)));
    json!({
        "argon2_verify_per_s_per_core": round(f.argon2_per_cpu_second, 2),
        "login_per_s_per_core": round(f.login.per_cpu_second, 2),
        "login_2fa_per_s_per_core": round(f.login_2fa.per_cpu_second, 2),
        "login_vs_argon2": round(f.login.per_cpu_second / f.argon2_per_cpu_second, 3),
        "login_wall_per_s": { "c1": round(f.login.per_second, 2), "c2": round(f.login_c2.per_second, 2) },
        "latency_ms": object(f.latency.iter().copied(), |p| json!({ "p50": round(p.p50, 2), "p99": round(p.p99, 2) })),
        "dynamodb_calls": calls,
        "cold_init_ms": object(f.cold_init_ms.iter().copied(), |ms| json!(round(ms, 1))),
        "zip_bytes": object(f.zip_bytes.iter().copied(), |b| json!(b)),
        "app_bytes": { "gzip": f.app.gzip, "brotli": f.app.brotli },
    })
}

/// `GetItem, GetItem, Query` as `GetItem×2, Query`.
fn operations(ops: &[String]) -> String {
    let mut runs: Vec<(&str, usize)> = Vec::new();
    for op in ops {
        match runs.last_mut() {
            Some((last, n)) if last == op => *n += 1,
            _ => runs.push((op, 1)),
        }
    }
    let runs: Vec<String> =
        runs.iter().map(|(op, n)| if *n == 1 { op.to_string() } else { format!("{op}×{n}") }).collect();
    runs.join(", ")
}

pub fn print_table(f: &Figures) {
    let per_core = |t: f64| format!("{t:>9.1} /CPU-s");
    println!();
    println!("Throughput (release build, in process, against DynamoDB Local; best of 3 rounds)");
    println!("  {:<36}{}", "argon2id verify, 1 thread", per_core(f.argon2_per_cpu_second));
    println!(
        "  {:<36}{}   {:.2} x argon2",
        "login, password only (c1)",
        per_core(f.login.per_cpu_second),
        f.login.per_cpu_second / f.argon2_per_cpu_second
    );
    println!("  {:<36}{}", "login, password + passcode (c1)", per_core(f.login_2fa.per_cpu_second));
    println!("  {:<36}{:>9.1} /s", "login wall clock, concurrency 1", f.login.per_second);
    println!("  {:<36}{:>9.1} /s", "login wall clock, concurrency 2", f.login_c2.per_second);
    println!("Latency (ms)                                p50       p99");
    for (name, p) in &f.latency {
        println!("  {name:<36}{:>9.2} {:>9.2}", p.p50, p.p99);
    }
    println!("DynamoDB calls per request                 calls  read units  operations");
    for c in &f.calls {
        let units = c.read_units.map_or("?".to_owned(), |u| format!("{u:.1}"));
        println!("  {:<36}{:>9} {units:>11}  {}", c.step, c.operations.len(), operations(&c.operations));
    }
    println!("Cold start to the first event request (ms, median of 5 starts)");
    for (function, ms) in &f.cold_init_ms {
        println!("  {function:<36}{ms:>9.1}");
    }
    println!("Sizes (bytes)");
    for (function, bytes) in &f.zip_bytes {
        println!("  {:<36}{bytes:>9}", format!("{function} bootstrap.zip"));
    }
    println!("  {:<36}{:>9}", "app WASM+JS+CSS, raw", f.app.raw);
    println!("  {:<36}{:>9}", "app WASM+JS+CSS, gzip -9", f.app.gzip);
    println!("  {:<36}{:>9}", "app WASM+JS+CSS, brotli 11", f.app.brotli);
    println!();
}
