//! The Take Control / RBM gate over HTTP: prompt, Activate Later, Activate Now, enforcement.

use aws_sdk_dynamodb::types::AttributeValue;
use domain::{Role, UnixTime};
use serde_json::json;

use crate::{PASSWORD, TestApp, now, spawn_app};

async fn audit_actions(app: &TestApp) -> Vec<String> {
    let events = app.store.list_audit(&app.tech.account_id, 100).await.unwrap();
    events.into_iter().map(|e| e.action).collect()
}

async fn remote_records(app: &TestApp) -> Vec<std::collections::HashMap<String, AttributeValue>> {
    app.items()
        .await
        .into_iter()
        .filter(|i| matches!(i.get("sk"), Some(AttributeValue::S(sk)) if sk.starts_with("REMOTE#")))
        .collect()
}

/// The test account's enforcement date for Take Control and RBM (account-wide 2FA off).
async fn require_2fa_for_remote_from(app: &TestApp, date: UnixTime) {
    app.store.set_account_policy(&app.tech.account_id, false, Some(date)).await.unwrap();
}

#[tokio::test]
async fn without_2fa_the_prompt_comes_every_time_and_activate_later_starts_the_session() {
    let app = spawn_app().await;
    let in_a_month = now().plus_seconds(30 * 86_400);
    require_2fa_for_remote_from(&app, in_a_month).await;
    app.login(&app.email("tech"), PASSWORD).await;

    for kind in ["TakeControl", "RemoteBackgroundManagement"] {
        let prompt = app.start_remote("d1", kind, false).await;
        assert_eq!(prompt.status, 200, "{:?}", prompt.body);
        assert_eq!(prompt.body["ActivationRequired"]["deferral_allowed"], true);
        assert_eq!(prompt.body["ActivationRequired"]["deferral_until"], in_a_month.seconds());
        assert!(remote_records(&app).await.is_empty() || kind != "TakeControl");

        let later = app.start_remote("d1", kind, true).await;
        assert_eq!(later.status, 200, "{:?}", later.body);
        assert_eq!(later.body["Started"]["device_id"], "d1");
        assert_eq!(later.body["Started"]["kind"], kind);
    }
    let records = remote_records(&app).await;
    assert_eq!(records.len(), 2);
    assert!(records.iter().all(|r| r.get("deferred") == Some(&AttributeValue::Bool(true))));
    let actions = audit_actions(&app).await;
    assert_eq!(actions.iter().filter(|a| *a == "remote.deferred").count(), 2);
    assert_eq!(actions.iter().filter(|a| *a == "remote.started").count(), 2);
}

#[tokio::test]
async fn from_the_enforcement_date_the_session_is_refused_even_when_deferral_is_claimed() {
    let app = spawn_app().await;
    require_2fa_for_remote_from(&app, now().plus_seconds(-60)).await;
    app.login(&app.email("tech"), PASSWORD).await;

    let prompt = app.start_remote("d1", "TakeControl", false).await;
    assert_eq!(prompt.status, 200);
    assert_eq!(prompt.body["ActivationRequired"]["deferral_allowed"], false);
    let crafted = app.start_remote("d1", "TakeControl", true).await;
    assert_eq!(crafted.status, 403, "{:?}", crafted.body);
    assert!(crafted.message().contains("required"));
    assert!(remote_records(&app).await.is_empty());
    assert!(audit_actions(&app).await.contains(&"remote.refused".to_owned()));
}

#[tokio::test]
async fn account_wide_2fa_allows_no_deferral() {
    let app = spawn_app().await;
    // A session from before the switch was turned on.
    app.login(&app.email("tech"), PASSWORD).await;
    app.store.set_account_policy(&app.tech.account_id, true, None).await.unwrap();
    assert_eq!(app.start_remote("d1", "TakeControl", true).await.status, 403);
    let prompt = app.start_remote("d1", "TakeControl", false).await;
    assert_eq!(prompt.body["ActivationRequired"]["deferral_allowed"], false);
}

#[tokio::test]
async fn users_with_active_2fa_start_directly_and_never_see_the_prompt() {
    let app = spawn_app().await;
    require_2fa_for_remote_from(&app, now().plus_seconds(-60)).await;
    let email = app.email("tech");
    let (secret, _) = app.log_in_and_activate(&email).await;
    // Even the session that activated 2FA (read from the user item) starts directly.
    let started = app.start_remote("d1", "TakeControl", false).await;
    assert_eq!(started.status, 200, "{:?}", started.body);
    assert!(started.body.get("Started").is_some());

    app.logout().await;
    app.login(&email, PASSWORD).await;
    app.passcode(&crate::code_now(&secret, 1)).await;
    let started = app.start_remote("d1", "RemoteBackgroundManagement", false).await;
    assert_eq!(started.body["Started"]["kind"], "RemoteBackgroundManagement", "{:?}", started.body);
    let records = remote_records(&app).await;
    assert_eq!(records.len(), 2);
    assert!(records.iter().all(|r| r.get("deferred") == Some(&AttributeValue::Bool(false))));
    assert!(!audit_actions(&app).await.contains(&"remote.deferred".to_owned()));
}

#[tokio::test]
async fn a_device_of_another_account_is_refused() {
    let app = spawn_app().await;
    app.login(&app.email("tech"), PASSWORD).await;
    // d2 belongs to the other account.
    let reply = app.start_remote("d2", "TakeControl", true).await;
    assert_eq!(reply.status, 404, "{:?}", reply.body);
    assert!(remote_records(&app).await.is_empty());
    assert_eq!(app.start_remote("", "TakeControl", true).await.status, 400);
    let bad_kind =
        app.call("remote/start", json!({ "device_id": "d1", "kind": "Telnet", "defer": true })).await;
    assert_eq!(bad_kind.status, 400);
    app.forget_cookies();
    assert_eq!(app.start_remote("d1", "TakeControl", true).await.status, 401);
}

#[tokio::test]
async fn activate_now_enables_2fa_and_logs_out_then_activation_clears_the_prompt() {
    let app = spawn_app().await;
    let user = app.add_user("now", Role::Technician).await;
    let email = app.email("now");
    app.login(&email, PASSWORD).await;
    let prompt = app.start_remote("d1", "TakeControl", false).await;
    assert!(prompt.body.get("ActivationRequired").is_some());

    let now_reply = app.call("remote/activate-now", json!({})).await;
    assert_eq!(now_reply.status, 200, "{:?}", now_reply.body);
    assert!(app.cookie("__Host-session").is_none());
    crate::assert_signed_out(&app).await;
    let stored = app.user(&user).await;
    assert_eq!(stored.two_factor.enabled.as_ref().map(|e| e.by_user_id.as_str()), Some(user.id.as_str()));
    assert!(audit_actions(&app).await.contains(&"2fa.activate_now".to_owned()));

    let login = app.login(&email, PASSWORD).await;
    assert_eq!(login.body["ActivationRequired"]["email"], email.as_str());
    app.activate(&email).await;
    let started = app.start_remote("d1", "TakeControl", false).await;
    assert!(started.body.get("Started").is_some(), "{:?}", started.body);
}
