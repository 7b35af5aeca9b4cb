//! Logins through the real routers: how many one CPU core completes per second, and how many
//! this machine completes per wall-clock second.

use std::future::Future;

use futures::StreamExt;
use serde_json::{Value, json};

use crate::cpu::Meter;
use crate::system::{Browser, Functions, HOME, PASSWORD, System};

/// The best of several rounds (the least disturbed by the rest of the machine).
#[derive(Clone, Copy, Debug, Default)]
pub struct Throughput {
    /// Logins completed per CPU second of this process.
    pub per_cpu_second: f64,
    /// Logins completed per wall-clock second.
    pub per_second: f64,
}

/// The password step of a new browser at [`HOME`]; answers the outcome.
pub async fn password_step(functions: &Functions, email: &str) -> (Browser, Value) {
    let mut browser = functions.browser(HOME);
    let outcome = browser.call("auth/login", json!({ "email": email, "password": PASSWORD })).await;
    (browser, outcome)
}

/// A user without 2FA logs in: the password step signs them in.
pub async fn sign_in(functions: &Functions, email: &str) -> Browser {
    let (browser, outcome) = password_step(functions, email).await;
    assert!(outcome.get("SignedIn").is_some(), "login of {email}: {outcome}");
    browser
}

/// A user with active 2FA logs in: password, then the current passcode.
pub async fn sign_in_2fa(system: &System, functions: &Functions, email: &str) -> Browser {
    let (mut browser, outcome) = password_step(functions, email).await;
    assert_eq!(outcome, json!("PasscodeRequired"), "login of {email}");
    let accepted = browser.call("auth/passcode", json!({ "code": system.passcode() })).await;
    assert!(accepted.get("me").is_some(), "passcode of {email}: {accepted}");
    browser
}

/// `rounds` rounds of `per_round` logins, `concurrency` at a time, each on its own task;
/// `login(i)` does the `i`-th login of the whole run (0, 1, 2, ... across rounds).
pub async fn best_of<F, Fut>(rounds: usize, per_round: usize, concurrency: usize, login: F) -> Throughput
where
    F: Fn(usize) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    let mut best = Throughput::default();
    for round in 0..rounds {
        let meter = Meter::start();
        futures::stream::iter(round * per_round..(round + 1) * per_round)
            .map(|i| tokio::spawn(login(i)))
            .buffer_unordered(concurrency)
            .for_each(|done| async move { done.expect("a login task") })
            .await;
        let cost = meter.stop();
        eprintln!(
            "bench:   round {}: {per_round} logins at concurrency {concurrency}: {:.2} CPU-s, {:.2} s",
            round + 1,
            cost.cpu_seconds,
            cost.wall.as_secs_f64()
        );
        best.per_cpu_second = best.per_cpu_second.max(cost.per_cpu_second(per_round));
        best.per_second = best.per_second.max(cost.per_second(per_round));
    }
    best
}
