//! How many DynamoDB calls each step of a login and of a session costs, counted at the endpoint
//! (the `scripts/bench` figures; these tests keep them from creeping back up).

use crate::{PASSWORD, TestApp, active_user, code_now, spawn_app};

/// The DynamoDB calls `step` makes.
async fn calls_of<F: std::future::Future<Output = crate::Reply>>(app: &TestApp, step: F) -> Vec<String> {
    let before = app.dynamodb.calls().len();
    let reply = step.await;
    assert!(reply.status < 300, "{:?}", reply.body);
    app.dynamodb.calls()[before..].to_vec()
}

#[tokio::test]
async fn the_password_step_costs_three_calls_for_both_kinds_of_user() {
    let app = spawn_app().await;
    let (user, secret, _) = active_user(&app, "with-2fa").await;
    let browser = app.browser();
    let without_2fa = calls_of(&app, browser.login(&app.email("tech"), PASSWORD)).await;
    assert_eq!(without_2fa, ["BatchGetItem", "BatchGetItem", "TransactWriteItems"]);
    let browser = app.browser();
    let with_2fa = calls_of(&app, browser.login(user.email.as_str(), PASSWORD)).await;
    assert_eq!(with_2fa, ["BatchGetItem", "BatchGetItem", "TransactWriteItems"]);
    let passcode = calls_of(&app, browser.passcode(&code_now(&secret, 1))).await;
    assert_eq!(passcode, ["GetItem", "TransactWriteItems"]);
    let me = calls_of(&app, browser.me()).await;
    assert_eq!(me, ["BatchGetItem"]);
    let gate = calls_of(&app, browser.start_remote("d1", "TakeControl", false)).await;
    assert_eq!(gate, ["GetItem", "TransactWriteItems"]);
}

#[tokio::test]
async fn waiting_for_an_ip_link_costs_one_call_per_poll() {
    let app = spawn_app().await;
    let browser = app.browser();
    browser.connect_from("198.51.100.7");
    let waiting = browser.login(&app.email("tech"), PASSWORD).await;
    assert_eq!(waiting.body, serde_json::json!({ "IpVerificationRequired": { "email": app.email("tech") } }));
    let poll = calls_of(&app, browser.call("auth/login-status", serde_json::json!({}))).await;
    assert_eq!(poll, ["GetItem"]);
}

#[tokio::test]
async fn a_step_up_costs_three_calls() {
    let app = spawn_app().await;
    let browser = app.browser();
    assert_eq!(browser.login(&app.email("tech"), PASSWORD).await.status, 200);
    let step_up = browser.call("auth/step-up", serde_json::json!({ "secret": PASSWORD }));
    // The session with its user and account; the counters; the note, its audit and the lock check.
    assert_eq!(calls_of(&app, step_up).await, ["BatchGetItem", "BatchGetItem", "TransactWriteItems"]);
}

#[tokio::test]
async fn a_page_of_user_accounts_costs_two_calls_whatever_the_column() {
    let app = spawn_app().await;
    app.add_user("admin", domain::Role::Administrator).await;
    let browser = app.browser();
    assert_eq!(browser.login(&app.email("admin"), PASSWORD).await.status, 200);
    for sort in ["Name", "Email", "Role", "TwoFactor", "LastLogin"] {
        let page = browser
            .call("accounts/users", serde_json::json!({ "sort": sort, "descending": true, "at": null }));
        // The session with the administrator and the account (and its counts); one query.
        assert_eq!(calls_of(&app, page).await, ["BatchGetItem", "Query"], "{sort}");
    }
}
