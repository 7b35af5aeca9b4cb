//! DynamoDB calls per request, counted at the DynamoDB endpoint: the counted functions reach
//! DynamoDB Local through an `aws_proxy::Proxy`, and each figure is the number of calls it
//! received during one request (nothing else uses that proxy meanwhile). The read capacity the
//! same calls consumed comes with it (`crate::capacity`).

use std::future::Future;

use serde_json::{Value, json};

use crate::logins::{password_step, sign_in};
use crate::system::{NEW_PLACE, PASSWORD, System};

type Error = Box<dyn std::error::Error + Send + Sync>;

/// One step: its name in the summary, the operations it called in order, and the read capacity
/// units they consumed (`None` if DynamoDB did not report them all).
pub struct Counted {
    pub step: &'static str,
    pub operations: Vec<String>,
    pub read_units: Option<f64>,
}

/// What the counted functions' DynamoDB calls did while one request ran.
struct Calls {
    operations: Vec<String>,
    read_units: Option<f64>,
}

/// The request's answer, and the calls the proxy received (and the reads' units) meanwhile.
async fn during<T>(system: &System, request: impl Future<Output = T>) -> (T, Calls) {
    let (calls, reads) = (system.dynamodb.calls().len(), system.read_units.so_far());
    let out = request.await;
    let after = system.read_units.so_far();
    let read_units = (after.unreported == reads.unreported).then_some(after.units - reads.units);
    (out, Calls { operations: system.dynamodb.calls().split_off(calls), read_units })
}

/// Accounts and users the counted steps act on (made beforehand, straight to the store).
pub struct Cast {
    pub no_2fa: String,
    pub with_2fa: String,
    /// Logs in from [`NEW_PLACE`], outside its verified range.
    pub traveller: String,
    /// Administrator of a small account with `colleague` in it.
    pub admin: String,
    pub colleague_id: String,
    /// Administrator of the account with 5,000 users.
    pub grid_admin: String,
}

/// Every counted step, in the summary's order.
pub async fn count_all(system: &System, cast: &Cast) -> Result<Vec<Counted>, Error> {
    let f = &system.counted;
    let mut counted = Vec::new();
    let mut step = |step, calls: Calls| {
        counted.push(Counted { step, operations: calls.operations, read_units: calls.read_units })
    };

    let ((_, outcome), ops) = during(system, password_step(f, &cast.no_2fa)).await;
    check(outcome.get("SignedIn").is_some(), "password step without 2FA", &outcome)?;
    step("password_no_2fa", ops);

    let ((mut browser, outcome), ops) = during(system, password_step(f, &cast.with_2fa)).await;
    check(outcome == json!("PasscodeRequired"), "password step with 2FA", &outcome)?;
    step("password_2fa", ops);
    let (_, ops) = during(system, browser.call("auth/passcode", json!({ "code": system.passcode() }))).await;
    step("passcode", ops);
    let (_, ops) = during(system, browser.call("remote/start", take_control())).await;
    step("gate", ops);
    let (_, ops) = during(system, browser.call("auth/me", json!({}))).await;
    step("me", ops);

    let mut grid = sign_in(f, &cast.grid_admin).await;
    let (_, ops) = during(system, grid.call("accounts/users", grid_page())).await;
    step("grid_page_5000", ops);

    let mut admin = sign_in(f, &cast.admin).await;
    let (_, ops) = during(system, admin.call("accounts/audit", audit_page())).await;
    step("audit_page", ops);
    let (_, ops) =
        during(system, admin.call("accounts/user-action", user_action(cast, "EnableTwoFactor"))).await;
    step("enable_2fa", ops);
    let (_, ops) =
        during(system, admin.call("accounts/user-action", user_action(cast, "DisableTwoFactor"))).await;
    step("disable_2fa", ops);
    let (_, ops) = during(system, admin.call("accounts/save-settings", account_wide_on())).await;
    step("account_wide", ops);

    let (ip_wait_poll, ip_link_open) = ip_verification(system, &cast.traveller).await?;
    step("ip_wait_poll", ip_wait_poll);
    step("ip_link_open", ip_link_open);
    Ok(counted)
}

/// A login from a new place waits for its emailed link: one poll while it waits, then the link
/// opened (in a browser of its own, as from a mail app). Answers both steps' operations.
async fn ip_verification(system: &System, email: &str) -> Result<(Calls, Calls), Error> {
    let f = &system.counted;
    let mut waiting = f.browser(NEW_PLACE);
    let outcome = waiting.call("auth/login", json!({ "email": email, "password": PASSWORD })).await;
    check(outcome.get("IpVerificationRequired").is_some(), "login from a new place", &outcome)?;
    let (status, poll) = during(system, waiting.call("auth/login-status", json!({}))).await;
    check(status.get("IpVerificationRequired").is_some(), "poll while waiting", &status)?;
    let token = system.ip_link_token(email).await?;
    let mut mail_app = f.browser(NEW_PLACE);
    let (_, open) = during(system, mail_app.call("auth/verify-ip", json!({ "token": token }))).await;
    let status = waiting.call("auth/login-status", json!({})).await;
    check(status.get("SignedIn").is_some(), "poll after the link was opened", &status)?;
    Ok((poll, open))
}

pub fn take_control() -> Value {
    json!({ "device_id": crate::system::DEVICE_ID, "kind": "TakeControl", "defer": false })
}

pub fn grid_page() -> Value {
    json!({ "sort": "Name", "descending": false, "at": null })
}

fn audit_page() -> Value {
    json!({ "user_id": null, "action": null, "cursor": null })
}

fn user_action(cast: &Cast, action: &str) -> Value {
    json!({ "user_id": cast.colleague_id, "action": action })
}

fn account_wide_on() -> Value {
    json!({ "settings": { "account_wide_2fa": true, "remote_2fa_required_from": null, "ip_verification": true } })
}

fn check(ok: bool, what: &str, answer: &Value) -> Result<(), Error> {
    if ok { Ok(()) } else { Err(format!("{what}: unexpected answer {answer}").into()) }
}
