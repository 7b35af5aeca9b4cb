//! Faults between the functions and DynamoDB Local / the SES endpoint, injected at each test's
//! own proxy: every step answers a clear "try again" (503, never a 500 or a panic), leaves
//! nothing half-written, and succeeds when sent again once the fault is gone.
//!
//! The sweeps start an outage before a step's first DynamoDB call, then before its second, and
//! so on until the step gets through, each time on a fresh system.

use std::collections::BTreeMap;

use aws_proxy::Fault;
use aws_sdk_dynamodb::types::AttributeValue;
use domain::Role;
use domain::totp::TotpSecret;
use serde_json::{Value, json};

use crate::{PASSWORD, Reply, TestApp, active_user, code_now, grey_user, spawn_app};

fn assert_try_again(reply: &Reply) {
    assert_eq!(reply.status, 503, "{:?}", reply.body);
    assert_eq!(reply.body["kind"], "Unavailable", "{:?}", reply.body);
    assert!(reply.message().contains("try again"), "{:?}", reply.body);
}

/// Every item but the attempt counters (login counters, a code's tries, a login's wrong
/// codes): those count attempts before they are judged, by design, outage or not.
async fn state(app: &TestApp) -> BTreeMap<(String, String), BTreeMap<String, AttributeValue>> {
    let text = |item: &std::collections::HashMap<String, AttributeValue>, name: &str| match item.get(name) {
        Some(AttributeValue::S(v)) => v.clone(),
        _ => String::new(),
    };
    app.items()
        .await
        .into_iter()
        .filter(|item| !text(item, "pk").starts_with("LOCKOUT#"))
        .map(|item| {
            let key = (text(&item, "pk"), text(&item, "sk"));
            let attributes =
                item.into_iter().filter(|(name, _)| name != "tries" && name != "failures").collect();
            (key, attributes)
        })
        .collect()
}

/// Runs `step` on a fresh system set up by `setup`, with an outage starting after 0, 1, 2, …
/// of the step's DynamoDB calls, until the step gets through. Each time the step must answer
/// "try again", leave the stored state as it was, and then succeed when sent again.
async fn sweep<T>(what: &str, setup: impl AsyncFn(&TestApp) -> T, step: impl AsyncFn(&TestApp, &T) -> Reply) {
    for passing in 0..40 {
        let app = spawn_app().await;
        let given = setup(&app).await;
        let before = state(&app).await;
        app.dynamodb.fail_after(passing, Fault::ServerError);
        let reply = step(&app, &given).await;
        app.dynamodb.heal();
        if reply.status == 200 {
            assert!(passing > 0, "{what}: got through a total outage");
            return;
        }
        assert_try_again(&reply);
        assert_eq!(state(&app).await, before, "{what}: half-written after {passing} calls");
        let again = step(&app, &given).await;
        assert_eq!(again.status, 200, "{what} once the outage is over: {:?}", again.body);
    }
    panic!("{what}: never got through");
}

#[tokio::test]
async fn an_outage_during_a_password_login_changes_nothing() {
    sweep(
        "password step, 2FA off",
        async |_| (),
        async |app, _| app.login(&app.email("tech"), PASSWORD).await,
    )
    .await;
}

#[tokio::test]
async fn an_outage_during_the_password_step_of_a_2fa_user_changes_nothing() {
    sweep(
        "password step, 2FA active",
        async |app| active_user(app, "sam").await,
        async |app, (user, _, _)| app.login(user.email.as_str(), PASSWORD).await,
    )
    .await;
}

/// A user with active 2FA whose login waits for a passcode: their secret and recovery codes.
async fn at_the_passcode_step(app: &TestApp) -> (TotpSecret, Vec<String>) {
    let (user, secret, codes) = active_user(app, "sam").await;
    assert_eq!(app.login(user.email.as_str(), PASSWORD).await.body, json!("PasscodeRequired"));
    (secret, codes)
}

#[tokio::test]
async fn an_outage_during_the_passcode_step_changes_nothing() {
    sweep("passcode step", at_the_passcode_step, async |app, (secret, _)| {
        app.passcode(&code_now(secret, 1)).await
    })
    .await;
}

#[tokio::test]
async fn an_outage_during_a_recovery_code_login_changes_nothing() {
    sweep("recovery code", at_the_passcode_step, async |app, (_, codes)| app.passcode(&codes[0]).await).await;
}

/// A grey-tick user logged in and waiting for activation.
async fn in_activation(app: &TestApp) -> String {
    let (_, email) = grey_user(app, "grey").await;
    assert_eq!(app.login(&email, PASSWORD).await.status, 200);
    email
}

#[tokio::test]
async fn an_outage_while_sending_the_email_code_changes_nothing_and_sends_nothing() {
    sweep("send the email code", in_activation, async |app, email| {
        let reply = app.call("enroll/send-code", json!({})).await;
        if reply.status != 200 {
            assert!(app.mail_to(email).await.is_empty(), "a code went out for a failed step");
        }
        reply
    })
    .await;
}

#[tokio::test]
async fn an_outage_while_checking_the_email_code_changes_nothing() {
    sweep(
        "verify the email code",
        async |app| {
            let email = in_activation(app).await;
            assert_eq!(app.call("enroll/send-code", json!({})).await.status, 200);
            app.latest_code_for(&email).await
        },
        async |app, code| app.call("enroll/verify-email", json!({ "code": code })).await,
    )
    .await;
}

#[tokio::test]
async fn an_outage_while_confirming_the_authenticator_changes_nothing() {
    sweep(
        "confirm the authenticator",
        async |app| {
            let email = in_activation(app).await;
            assert_eq!(app.validate_email(&email).await.status, 200);
            let setup = app.call("enroll/authenticator", json!({})).await;
            domain::totp::TotpSecret::from_base32(setup.body["manual_key"].as_str().unwrap()).unwrap()
        },
        async |app, secret| {
            let reply = app.call("enroll/activate", json!({ "code": code_now(secret, 0) })).await;
            if reply.status == 200 {
                assert!(app.cookie("__Host-session").is_some(), "activation ends the login signed in");
            }
            reply
        },
    )
    .await;
}

const ELSEWHERE: &str = "127.0.99.1";

#[tokio::test]
async fn an_outage_during_a_login_from_a_new_range_changes_nothing_and_sends_nothing() {
    sweep(
        "login from a new range",
        async |app| app.connect_from(ELSEWHERE),
        async |app, _| {
            let reply = app.login(&app.email("tech"), PASSWORD).await;
            if reply.status != 200 {
                assert!(
                    app.mail_to(&app.email("tech")).await.is_empty(),
                    "a link went out for a failed step"
                );
            }
            reply
        },
    )
    .await;
}

#[tokio::test]
async fn an_outage_while_opening_an_ip_link_changes_nothing() {
    sweep(
        "open the IP link",
        async |app| {
            app.connect_from(ELSEWHERE);
            assert!(app.login(&app.email("tech"), PASSWORD).await.asks_ip_verification());
            app.latest_ip_link_token(&app.email("tech")).await
        },
        async |app, token| app.verify_ip(token).await,
    )
    .await;
}

/// An administrator signed in, and `target` (with active 2FA) signed in elsewhere.
async fn administrator_and_target(app: &TestApp) -> String {
    let (target, secret, _) = active_user(app, "target").await;
    let phone = app.browser();
    assert_eq!(phone.login(target.email.as_str(), PASSWORD).await.status, 200);
    assert_eq!(phone.passcode(&code_now(&secret, 1)).await.status, 200);
    app.add_user("admin", Role::Administrator).await;
    assert_eq!(app.login(&app.email("admin"), PASSWORD).await.status, 200);
    target.id
}

/// Sessions may end early in an outage (the safe side); anything else must be as it was.
async fn without_target_sessions(app: &TestApp, target: &str) -> Vec<(String, String)> {
    state(app)
        .await
        .into_iter()
        .filter(|(_, item)| {
            item.get("user_id") != Some(&AttributeValue::S(target.to_owned()))
                || !item.contains_key("two_factor")
        })
        .map(|(key, _)| key)
        .collect()
}

#[tokio::test]
async fn an_outage_during_an_administrators_reset_is_all_or_nothing() {
    for passing in 0..20 {
        let app = spawn_app().await;
        let target = administrator_and_target(&app).await;
        let before = without_target_sessions(&app, &target).await;
        let before_user = state(&app).await;
        app.dynamodb.fail_after(passing, Fault::ServerError);
        let reset = json!({ "user_id": target, "action": "ResetTwoFactor" });
        let reply = app.call("accounts/user-action", reset.clone()).await;
        app.dynamodb.heal();
        let audited = app.audit().await.iter().any(|(action, _)| action == "2fa.reset_by_admin");
        if reply.status == 200 {
            assert!(audited);
            return;
        }
        if reply.message().contains("was saved") {
            // The change landed with its audit and the sessions ended; only the answer failed.
            assert_eq!((reply.status, audited), (503, true));
            continue;
        }
        assert_try_again(&reply);
        assert!(!audited, "no audit without the change");
        let after = without_target_sessions(&app, &target).await;
        assert_eq!(after, before, "half-written after {passing} calls");
        let user_key = |s: &BTreeMap<(String, String), BTreeMap<String, AttributeValue>>| {
            s.iter().find(|((_, sk), _)| *sk == format!("USER#{target}")).map(|(_, item)| item.clone())
        };
        assert_eq!(user_key(&state(&app).await), user_key(&before_user), "the user changed");
        assert_eq!(app.call("accounts/user-action", reset).await.status, 200);
    }
    panic!("the reset never got through");
}

#[tokio::test]
async fn an_outage_while_saving_settings_changes_nothing() {
    sweep(
        "save General Settings",
        async |app| {
            app.add_user("admin", Role::Administrator).await;
            assert_eq!(app.login(&app.email("admin"), PASSWORD).await.status, 200);
        },
        async |app, _| {
            let settings = json!({ "account_wide_2fa": true, "remote_2fa_required_from": null, "ip_verification": false });
            app.call("accounts/save-settings", json!({ "settings": settings })).await
        },
    )
    .await;
}

/// Every kind of fault the proxy makes is answered "try again", and the step then succeeds.
#[tokio::test]
async fn throttling_timeouts_dropped_connections_and_conflicts_are_answered_try_again() {
    let app = spawn_app().await;
    let email = app.email("tech");
    for fault in [Fault::Throttling, Fault::DropConnection, Fault::Timeout, Fault::ServerError] {
        app.dynamodb.fail(fault);
        assert_try_again(&app.login(&email, PASSWORD).await);
        app.dynamodb.heal();
    }
    assert_eq!(app.login(&email, PASSWORD).await.status, 200);

    // A second step whose transaction keeps meeting another one: never "already used".
    let (user, secret, _) = active_user(&app, "sam").await;
    let browser = app.browser();
    assert_eq!(browser.login(user.email.as_str(), PASSWORD).await.body, json!("PasscodeRequired"));
    app.dynamodb.fail_only("TransactWriteItems", Fault::TransactionConflict);
    let code = code_now(&secret, 1);
    assert_try_again(&browser.passcode(&code).await);
    app.dynamodb.heal();
    let retried = browser.passcode(&code).await;
    assert_eq!(retried.status, 200, "{:?}", retried.body);
}

/// A conflict that clears up is retried inside the same request: the user never notices.
#[tokio::test]
async fn a_passing_transaction_conflict_is_retried_without_the_user_noticing() {
    let app = spawn_app().await;
    let (user, secret, _) = active_user(&app, "sam").await;
    assert_eq!(app.login(user.email.as_str(), PASSWORD).await.body, json!("PasscodeRequired"));
    // The passcode step reads its challenge, then its transaction meets a conflict once.
    let transactions =
        |proxy: &aws_proxy::Proxy| proxy.calls().iter().filter(|c| *c == "TransactWriteItems").count();
    let before = transactions(&app.dynamodb);
    app.dynamodb.fail_once("TransactWriteItems", Fault::TransactionConflict);
    let reply = app.passcode(&code_now(&secret, 1)).await;
    assert_eq!(reply.status, 200, "{:?}", reply.body);
    assert_eq!(transactions(&app.dynamodb) - before, 2, "the conflicting transaction was sent again");
}

#[tokio::test]
async fn an_email_code_that_could_not_be_sent_is_withdrawn_and_can_be_sent_again_at_once() {
    let app = spawn_app().await;
    let email = in_activation(&app).await;
    app.ses.fail(Fault::ServerError);
    let failed = app.call("enroll/send-code", json!({})).await;
    assert_try_again(&failed);
    assert!(failed.message().contains("could not be sent"), "{:?}", failed.body);
    let status = app.call("enroll/status", json!({})).await;
    assert_eq!(
        (status.body["code_sent"].clone(), status.body["resend_after"].clone()),
        (json!(false), Value::Null)
    );
    app.ses.heal();
    let sent = app.call("enroll/send-code", json!({})).await;
    assert_eq!(sent.status, 200, "no cooldown after a failed send: {:?}", sent.body);
    assert_eq!(app.mail_to(&email).await.len(), 1);
}

#[tokio::test]
async fn an_ip_link_that_could_not_be_sent_leaves_no_waiting_login_and_no_link() {
    let app = spawn_app().await;
    let email = app.email("tech");
    app.connect_from(ELSEWHERE);
    let before = state(&app).await;
    app.ses.fail(Fault::Throttling);
    let failed = app.login(&email, PASSWORD).await;
    assert_try_again(&failed);
    assert!(failed.message().contains("could not be sent"), "{:?}", failed.body);
    assert_eq!(state(&app).await, before);
    assert!(app.cookie("__Host-login").is_none());
    app.ses.heal();
    let login = app.login(&email, PASSWORD).await;
    assert!(login.asks_ip_verification(), "{:?}", login.body);

    // A resend that fails withdraws its link and does not hold back the next one.
    let first = app.latest_ip_link_token(&email).await;
    let links = app.item_count_with_prefix("IPLINK#").await;
    app.a_minute_later().await;
    app.ses.fail(Fault::ServerError);
    assert_try_again(&app.call("auth/resend-ip-link", json!({})).await);
    assert_eq!(app.item_count_with_prefix("IPLINK#").await, links);
    app.ses.heal();
    assert_eq!(app.call("auth/resend-ip-link", json!({})).await.status, 200);
    assert_ne!(app.latest_ip_link_token(&email).await, first);
}

/// Keys DynamoDB leaves unprocessed are asked for again; if it keeps doing so, "try again".
#[tokio::test]
async fn unprocessed_keys_are_asked_for_again() {
    let app = spawn_app().await;
    let email = app.email("tech");
    // The login reads its counters with BatchGetItem first.
    app.dynamodb.fail_only("BatchGetItem", Fault::UnprocessedKeys);
    assert_try_again(&app.login(&email, PASSWORD).await);
    // Once: the first answer leaves the keys unprocessed, the next one reads them (the login's
    // two reads are both BatchGetItem).
    let batch_gets = |proxy: &aws_proxy::Proxy| proxy.calls().iter().filter(|c| *c == "BatchGetItem").count();
    let before = batch_gets(&app.dynamodb);
    app.dynamodb.fail_once("BatchGetItem", Fault::UnprocessedKeys);
    let reply = app.login(&email, PASSWORD).await;
    assert_eq!(reply.status, 200, "{:?}", reply.body);
    let asked = batch_gets(&app.dynamodb) - before;
    assert_eq!(asked, 3, "asked again once");
}
