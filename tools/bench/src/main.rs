//! `scripts/bench`: speed and size figures of the dashboard, printed as a table and written to
//! `target/bench/summary.json`. Not a test: nothing is asserted about speed.
//!
//! Runs inside `devstack/stack.py run` (DynamoDB Local, the SES stand-in, moto for Secrets
//! Manager). The functions' routers run in this process, built in release mode, so CPU seconds
//! of this process are the functions' own work (plus the AWS SDK client they also run); DynamoDB
//! Local's work is in its own process and not counted.

mod calls;
mod capacity;
mod cold;
mod cpu;
mod latency;
mod logins;
mod report;
mod sizes;
mod system;

use std::process::ExitCode;
use std::sync::Arc;

use domain::Role;
use domain::password::{hash_password, verify_password};
use serde_json::json;

use crate::calls::Cast;
use crate::cold::{FUNCTIONS, target_dir};
use crate::cpu::Meter;
use crate::latency::{Percentiles, Samples};
use crate::logins::{Throughput, best_of, password_step, sign_in, sign_in_2fa};
use crate::report::Figures;
use crate::system::{PASSWORD, System};

type Error = Box<dyn std::error::Error + Send + Sync>;

/// Logins per round, and rounds (the best round counts).
const LOGINS_PER_ROUND: usize = 40;
const LOGINS_2FA_PER_ROUND: usize = 40;
const ROUNDS: usize = 3;
const LATENCY_CALLS: usize = 50;
const GRID_CALLS: usize = 20;
const GRID_USERS: usize = 5_000;
const COLD_STARTS: usize = 5;

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            // The AWS SDK's errors say "service error" and keep the detail in their sources.
            let mut message = err.to_string();
            let mut source = err.source();
            while let Some(cause) = source {
                message += &format!(": {cause}");
                source = cause.source();
            }
            eprintln!("bench: {message}");
            ExitCode::FAILURE
        }
    }
}

fn progress(what: &str) {
    eprintln!("bench: {what}");
}

fn run() -> Result<(), Error> {
    std::fs::create_dir_all(target_dir().join("bench"))?;
    cpu::process_seconds(); // reads the clock tick rate once, outside any measurement
    progress("cold starts of the release binaries");
    let cold_init_ms =
        FUNCTIONS.iter().map(|&f| Ok((f, cold::median_ms(f, COLD_STARTS)?))).collect::<Result<_, Error>>()?;
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    let measured = runtime.block_on(in_process())?;
    progress("sizes");
    let figures = Figures {
        argon2_per_cpu_second: measured.argon2_per_cpu_second,
        login: measured.login,
        login_c2: measured.login_c2,
        login_2fa: measured.login_2fa,
        latency: measured.latency,
        calls: measured.calls,
        cold_init_ms,
        zip_bytes: sizes::zips()?,
        app: sizes::app()?,
    };
    report::print_table(&figures);
    let path = target_dir().join("bench").join("summary.json");
    std::fs::write(&path, serde_json::to_string_pretty(&report::summary(&figures))? + "\n")?;
    println!("Wrote {}", path.display());
    Ok(())
}

/// Verifications per CPU second in one round of as many verifications as a round of logins (CPU
/// time comes in 10 ms ticks: a round must last long enough for them not to matter). Run on a
/// blocking thread while the runtime's thread waits, so the process's CPU time is argon2's alone.
fn argon2_round(hash: &str) -> f64 {
    let meter = Meter::start();
    for _ in 0..LOGINS_PER_ROUND {
        assert!(verify_password(PASSWORD, Some(hash)));
    }
    meter.stop().per_cpu_second(LOGINS_PER_ROUND)
}

/// What is measured through the routers in this process.
struct InProcess {
    argon2_per_cpu_second: f64,
    login: Throughput,
    login_c2: Throughput,
    login_2fa: Throughput,
    latency: Vec<(&'static str, Percentiles)>,
    calls: Vec<calls::Counted>,
}

async fn in_process() -> Result<InProcess, Error> {
    progress("a fresh table, its accounts and users (5,000 in one account)");
    let system = Arc::new(System::start().await?);
    let people = People::seed(&system).await?;
    sign_in(&system.direct, &people.warm_up).await; // connections, lazy set-up
    let (argon2_per_cpu_second, login, login_c2, login_2fa) = throughput(&system, &people).await;
    let latency = latencies(&system, &people).await;
    progress("DynamoDB calls per request");
    let calls = calls::count_all(&system, &people.cast).await?;
    Ok(InProcess { argon2_per_cpu_second, login, login_c2, login_2fa, latency, calls })
}

/// Who logs in. Every login is a user's first from a new browser, and a passcode works once per
/// user and 30 s step, so each throughput or passcode login has a user of its own.
struct People {
    /// Without 2FA: the concurrency-1 rounds' users, then the concurrency-2 rounds'.
    plain: Arc<Vec<String>>,
    /// With active 2FA: the throughput rounds' users, then the passcode latency's.
    with_2fa: Arc<Vec<String>>,
    /// With active 2FA, signed in for the gate and `me` latency.
    gate_user: String,
    warm_up: String,
    /// Whose requests are counted (`grid_admin` also serves the grid latency).
    cast: Cast,
}

impl People {
    async fn seed(system: &System) -> Result<People, Error> {
        let home = system.account("Bench MSP").await?;
        let mut plain = emails(&system.users(&home, "plain", 2 * ROUNDS * LOGINS_PER_ROUND + 2, 16).await?);
        let with_2fa_count = ROUNDS * LOGINS_2FA_PER_ROUND + LATENCY_CALLS + 2;
        let mut with_2fa = emails(&system.users_with_2fa(&home, "tfa", with_2fa_count).await?);
        let traveller = system.user(&home, "traveller", Role::Technician, true).await?;
        let small = system.account("Small MSP").await?;
        let admin = system.user(&small, "admin", Role::Administrator, true).await?;
        let colleague = system.user(&small, "colleague", Role::Technician, true).await?;
        let grid = system.account("Grid MSP").await?;
        let grid_admin = system.user(&grid, "grid-admin", Role::Administrator, true).await?;
        system.users(&grid, "grid", GRID_USERS - 1, 32).await?;
        let spare = |list: &mut Vec<String>| list.pop().ok_or("no spare user");
        Ok(People {
            warm_up: spare(&mut plain)?,
            gate_user: spare(&mut with_2fa)?,
            cast: Cast {
                no_2fa: spare(&mut plain)?,
                with_2fa: spare(&mut with_2fa)?,
                traveller: traveller.email.to_string(),
                admin: admin.email.to_string(),
                colleague_id: colleague.id,
                grid_admin: grid_admin.email.to_string(),
            },
            plain: Arc::new(plain),
            with_2fa: Arc::new(with_2fa),
        })
    }
}

/// Logins without 2FA at concurrency 1 and 2, and with 2FA at concurrency 1.
async fn throughput(system: &Arc<System>, people: &People) -> (f64, Throughput, Throughput, Throughput) {
    progress("argon2id verify and logins without 2FA, round by round; then concurrency 2");
    let plain_login = |i: usize| {
        let (functions, email) = (system.direct.clone(), people.plain[i].clone());
        async move {
            sign_in(&functions, &email).await;
        }
    };
    // A round of the bare verify just before each round of logins, each figure the best of its
    // rounds: the two are compared over the same stretch of the machine's speed, which drifts by
    // 10 % and more over a run on a shared machine. The verify runs on a blocking thread, where a
    // login runs it.
    let hash = hash_password(PASSWORD);
    let (mut argon2, mut c1) = (0.0f64, Throughput::default());
    for round in 0..ROUNDS {
        let hash = hash.clone();
        argon2 = argon2.max(tokio::task::spawn_blocking(move || argon2_round(&hash)).await.unwrap_or(0.0));
        eprintln!("bench:   round {}: argon2id verify {argon2:.1} /CPU-s so far", round + 1);
        let r = best_of(1, LOGINS_PER_ROUND, 1, |i| plain_login(round * LOGINS_PER_ROUND + i)).await;
        c1.per_cpu_second = c1.per_cpu_second.max(r.per_cpu_second);
        c1.per_second = c1.per_second.max(r.per_second);
    }
    let c2 = best_of(ROUNDS, LOGINS_PER_ROUND, 2, |i| plain_login(ROUNDS * LOGINS_PER_ROUND + i)).await;
    progress("logins with 2FA, concurrency 1");
    let with_2fa = best_of(ROUNDS, LOGINS_2FA_PER_ROUND, 1, |i| {
        let (system, email) = (system.clone(), people.with_2fa[i].clone());
        async move {
            sign_in_2fa(&system, &system.direct, &email).await;
        }
    })
    .await;
    (argon2, c1, c2, with_2fa)
}

async fn latencies(system: &System, people: &People) -> Vec<(&'static str, Percentiles)> {
    progress("latency: passcode, gate, me, grid page");
    let mut passcode = Samples::default();
    for email in &people.with_2fa[ROUNDS * LOGINS_2FA_PER_ROUND..] {
        let (mut browser, outcome) = password_step(&system.direct, email).await;
        assert_eq!(outcome, json!("PasscodeRequired"), "login of {email}");
        passcode.time(browser.call("auth/passcode", json!({ "code": system.passcode() }))).await;
    }
    let mut browser = sign_in_2fa(system, &system.direct, &people.gate_user).await;
    let (mut gate, mut me) = (Samples::default(), Samples::default());
    for _ in 0..LATENCY_CALLS {
        let started = gate.time(browser.call("remote/start", calls::take_control())).await;
        assert!(started.get("Started").is_some(), "remote/start: {started}");
    }
    for _ in 0..LATENCY_CALLS {
        me.time(browser.call("auth/me", json!({}))).await;
    }
    let mut admin = sign_in(&system.direct, &people.cast.grid_admin).await;
    let mut grid_page = Samples::default();
    for _ in 0..GRID_CALLS {
        let page = grid_page.time(admin.call("accounts/users", calls::grid_page())).await;
        assert_eq!(page["total"], json!(GRID_USERS), "grid page");
    }
    vec![
        ("passcode", passcode.percentiles()),
        ("gate", gate.percentiles()),
        ("me", me.percentiles()),
        ("grid_page_5000", grid_page.percentiles()),
    ]
}

fn emails(users: &[store::User]) -> Vec<String> {
    users.iter().map(|u| u.email.to_string()).collect()
}
