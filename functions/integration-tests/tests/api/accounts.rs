//! User Accounts, General Settings and the audit log over HTTP: permissions, cross-account
//! refusals, the per-user actions and the account-wide switch.

use domain::Role;
use serde_json::{Value, json};

use crate::{PASSWORD, TestApp, add_user, code_now, spawn_app, tech_with_2fa};

async fn log_in_admin(app: &TestApp) -> store::User {
    let admin = app.add_user("admin", Role::Administrator).await;
    assert_eq!(app.login(&admin.email.to_string(), PASSWORD).await.status, 200);
    admin
}

fn row<'a>(page: &'a Value, email: &str) -> &'a Value {
    page["rows"].as_array().unwrap().iter().find(|r| r["email"] == email).expect("row for user")
}

async fn users(app: &TestApp) -> Value {
    let page = app.call("accounts/users", json!({ "sort": "Name", "descending": false, "at": null })).await;
    assert_eq!(page.status, 200, "{:?}", page.body);
    page.body
}

async fn act(app: &TestApp, user_id: &str, action: &str) -> crate::Reply {
    app.call("accounts/user-action", json!({ "user_id": user_id, "action": action })).await
}

#[tokio::test]
async fn technicians_are_refused_everything_and_nothing_changes() {
    let app = spawn_app().await;
    let victim = app.add_user("victim", Role::Technician).await;
    app.login(&app.email("tech"), PASSWORD).await;
    let before = app.items().await.len();
    let calls = [
        ("accounts/users", json!({ "sort": "Name", "descending": false, "at": null })),
        ("accounts/user-action", json!({ "user_id": victim.id, "action": "DisableTwoFactor" })),
        ("accounts/user-action", json!({ "user_id": victim.id, "action": "EnableTwoFactor" })),
        ("accounts/settings", json!({})),
        (
            "accounts/save-settings",
            json!({ "settings": { "account_wide_2fa": true, "remote_2fa_required_from": null, "ip_verification": false } }),
        ),
        ("accounts/audit", json!({ "user_id": null, "action": null, "cursor": null })),
    ];
    for (path, body) in calls {
        let reply = app.call(path, body).await;
        assert_eq!(reply.status, 403, "{path}: {:?}", reply.body);
    }
    assert_eq!(app.items().await.len(), before);
    assert!(app.user(&victim).await.two_factor.enabled.is_none());
    // And without a session at all.
    app.forget_cookies();
    assert_eq!(app.call("accounts/settings", json!({})).await.status, 401);
}

#[tokio::test]
async fn an_administrator_of_another_account_cannot_touch_our_users() {
    let app = spawn_app().await;
    let other_admin = add_user(
        &app.store,
        &app.other_account_user.account_id,
        &format!("boss@other-{}", app.domain),
        Role::Administrator,
    )
    .await;
    app.login(&other_admin.email.to_string(), PASSWORD).await;
    let before = app.items().await.len();
    for action in ["EnableTwoFactor", "DisableTwoFactor", "ResetTwoFactor", "PauseIpVerification"] {
        let reply = act(&app, &app.tech.id, action).await;
        assert_eq!(reply.status, 404, "{action}: {:?}", reply.body);
    }
    assert_eq!(app.items().await.len(), before);
    // Their grid shows only their own account.
    let page = users(&app).await;
    let emails: Vec<&str> =
        page["rows"].as_array().unwrap().iter().map(|r| r["email"].as_str().unwrap()).collect();
    assert!(!emails.contains(&app.email("tech").as_str()));
}

#[tokio::test]
async fn enable_makes_a_grey_tick_and_the_next_login_goes_into_activation() {
    let app = spawn_app().await;
    log_in_admin(&app).await;
    let tech_email = app.email("tech");
    let page = users(&app).await;
    assert_eq!(row(&page, &tech_email)["two_factor"], "Off");
    assert_eq!(page["info"]["off"], 2);

    let reply = act(&app, &app.tech.id, "EnableTwoFactor").await;
    assert_eq!(reply.status, 200, "{:?}", reply.body);
    assert_eq!(reply.body["two_factor"], "EnabledNotActivated");
    let mail = app.mail_to(&tech_email).await;
    assert!(mail.iter().any(|m| m["subject"].as_str().unwrap()
        == "Two-factor authentication was enabled for your MSP Dashboard login"));
    let actions: Vec<String> =
        app.store.list_audit(&app.tech.account_id, 50).await.unwrap().into_iter().map(|e| e.action).collect();
    assert!(actions.contains(&"2fa.enabled_by_admin".to_owned()));

    app.forget_cookies();
    let login = app.login(&tech_email, PASSWORD).await;
    assert_eq!(login.body["ActivationRequired"]["email"], tech_email.as_str());
}

#[tokio::test]
async fn disabling_for_a_user_who_lost_their_phone_ends_their_sessions_and_allows_password_login() {
    let app = spawn_app().await;
    let tech_email = app.email("tech");
    app.log_in_and_activate(&tech_email).await;
    let phone_session = app.cookie("__Host-session");
    app.forget_cookies();

    log_in_admin(&app).await;
    let page = users(&app).await;
    let tech_row = row(&page, &tech_email);
    assert_eq!(tech_row["two_factor"], "Active");
    let disable =
        tech_row["menu"].as_array().unwrap().iter().find(|m| m["action"] == "DisableTwoFactor").unwrap();
    assert_eq!(disable["confirm"], true);
    let reply = act(&app, &app.tech.id, "DisableTwoFactor").await;
    assert_eq!(reply.body["two_factor"], "Off", "{:?}", reply.body);
    assert!(app.user(&app.tech).await.totp_secret.is_none());

    // Their old session no longer works; the password alone logs them in.
    app.forget_cookies();
    app.set_cookie("__Host-session", phone_session);
    crate::assert_signed_out(&app).await;
    app.forget_cookies();
    let login = app.login(&tech_email, PASSWORD).await;
    assert!(login.signed_in(), "{:?}", login.body);
}

#[tokio::test]
async fn reset_clears_the_authenticator_so_the_user_activates_again() {
    let app = spawn_app().await;
    let (tech_email, secret, codes) = tech_with_2fa(&app).await;
    log_in_admin(&app).await;
    // Pause IP verification first: a reset ends the pause too.
    assert_eq!(act(&app, &app.tech.id, "PauseIpVerification").await.body["ip_verification_paused"], true);
    let reset = act(&app, &app.tech.id, "ResetTwoFactor").await;
    assert_eq!(reset.body["two_factor"], "EnabledNotActivated", "{:?}", reset.body);
    assert_eq!(reset.body["ip_verification_paused"], false);
    app.forget_cookies();
    let login = app.login(&tech_email, PASSWORD).await;
    assert!(login.body.get("ActivationRequired").is_some(), "{:?}", login.body);
    // The old authenticator and recovery codes are useless now.
    assert_eq!(app.passcode(&code_now(&secret, 1)).await.status, 401);
    assert_eq!(app.passcode(&codes[0]).await.status, 401);
}

#[tokio::test]
async fn pause_is_offered_only_for_active_2fa() {
    let app = spawn_app().await;
    log_in_admin(&app).await;
    let page = users(&app).await;
    let menu: Vec<&str> = row(&page, &app.email("tech"))["menu"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["action"].as_str().unwrap())
        .collect();
    assert!(!menu.contains(&"PauseIpVerification"));
    assert_eq!(act(&app, &app.tech.id, "PauseIpVerification").await.status, 400);
}

#[tokio::test]
async fn account_wide_2fa_overrides_per_user_choices_and_gives_them_back() {
    let app = spawn_app().await;
    let admin = log_in_admin(&app).await;
    let other = app.add_user("other", Role::Technician).await;
    act(&app, &other.id, "EnableTwoFactor").await;

    let on = app
        .call(
            "accounts/save-settings",
            json!({ "settings": { "account_wide_2fa": true, "remote_2fa_required_from": null, "ip_verification": true } }),
        )
        .await;
    assert_eq!(on.status, 200, "{:?}", on.body);
    let page = users(&app).await;
    assert_eq!(page["info"]["account_wide"], true);
    assert_eq!(page["info"]["enabled_not_activated"], 3);
    let tech = row(&page, &app.email("tech"));
    assert_eq!(tech["two_factor"], "EnabledNotActivated");
    for item in tech["menu"].as_array().unwrap() {
        let reason = &item["unavailable_because"];
        match item["action"].as_str().unwrap() {
            "EnableTwoFactor" | "DisableTwoFactor" => {
                assert!(reason.as_str().unwrap().contains("whole account"))
            }
            _ => {}
        }
    }
    assert_eq!(act(&app, &app.tech.id, "EnableTwoFactor").await.status, 400);
    assert_eq!(act(&app, &other.id, "DisableTwoFactor").await.status, 400);

    app.call(
        "accounts/save-settings",
        json!({ "settings": { "account_wide_2fa": false, "remote_2fa_required_from": 1_899_936_000, "ip_verification": true } }),
    )
    .await;
    let page = users(&app).await;
    assert_eq!(row(&page, &app.email("tech"))["two_factor"], "Off");
    assert_eq!(row(&page, &app.email("other"))["two_factor"], "EnabledNotActivated");
    assert_eq!(row(&page, &admin.email.to_string())["two_factor"], "Off");

    // Settings changes are audited, and the audit log filters by action.
    let log = app
        .call("accounts/audit", json!({ "user_id": null, "action": "settings.changed", "cursor": null }))
        .await;
    let rows = log.body["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 2, "{:?}", log.body);
    assert!(rows[0]["detail"].as_str().unwrap().contains("account-wide 2FA off"));
    assert!(rows[1]["detail"].as_str().unwrap().contains("account-wide 2FA on"));
    let bad = app
        .call(
            "accounts/save-settings",
            json!({ "settings": { "account_wide_2fa": false, "remote_2fa_required_from": 5, "ip_verification": true } }),
        )
        .await;
    assert_eq!(bad.status, 400);
}

/// Every page of the grid in `sort` order, following the next cursors, then back again.
async fn all_pages(app: &TestApp, sort: &str, descending: bool) -> Vec<Value> {
    let mut pages = Vec::new();
    let mut at = Value::Null;
    loop {
        let page =
            app.call("accounts/users", json!({ "sort": sort, "descending": descending, "at": at })).await;
        assert_eq!(page.status, 200, "{:?}", page.body);
        assert_eq!(page.body["page"], pages.len(), "{sort}");
        at = page.body["next"].clone();
        pages.push(page.body);
        if at.is_null() {
            break;
        }
    }
    // Back from the last page, each previous page is the one seen on the way there.
    let mut at = pages.last().unwrap()["previous"].clone();
    for expected in pages.iter().rev().skip(1) {
        let page =
            app.call("accounts/users", json!({ "sort": sort, "descending": descending, "at": at })).await;
        assert_eq!(page.body["rows"], expected["rows"], "{sort} going back");
        assert_eq!(page.body["page"], expected["page"]);
        at = page.body["previous"].clone();
    }
    assert!(at.is_null(), "the first page has no previous");
    pages
}

/// What the grid sorts `row` by in `sort`'s column, as the rows show it.
fn sort_key(row: &Value, sort: &str) -> (String, String) {
    let rank = |s: &Value| match s.as_str().unwrap() {
        "Active" => "0",
        "EnabledNotActivated" => "1",
        _ => "2",
    };
    let key = match sort {
        "Name" => row["name"].as_str().unwrap().to_lowercase(),
        "Email" => String::new(),
        "Role" => row["role"].as_str().unwrap().to_owned(),
        "TwoFactor" => rank(&row["two_factor"]).to_owned(),
        _ => format!("{:012}", row["last_login"].as_i64().unwrap_or(0)),
    };
    (key, row["email"].as_str().unwrap().to_owned())
}

#[tokio::test]
async fn the_grid_pages_through_every_user_in_the_order_of_every_column() {
    let app = spawn_app().await;
    let admin = log_in_admin(&app).await;
    let mut users = Vec::new();
    for i in 0..30 {
        users.push(app.add_user(&format!("u{i:02}"), Role::Technician).await);
    }
    // Some statuses and logins, so every column has something to sort.
    for user in users.iter().step_by(3) {
        assert_eq!(act(&app, &user.id, "EnableTwoFactor").await.status, 200);
    }
    crate::active_user(&app, "with-2fa").await;
    for user in users.iter().step_by(4) {
        assert_eq!(app.browser().login(user.email.as_str(), PASSWORD).await.status, 200);
    }
    for sort in ["Name", "Email", "Role", "TwoFactor", "LastLogin"] {
        for descending in [false, true] {
            let pages = all_pages(&app, sort, descending).await;
            assert_eq!(pages.len(), 2);
            assert_eq!(pages[0]["total"], 33);
            assert_eq!(pages[0]["pages"], 2);
            assert_eq!(pages[0]["rows"].as_array().unwrap().len(), 25);
            let rows: Vec<&Value> = pages.iter().flat_map(|p| p["rows"].as_array().unwrap()).collect();
            let mut ids: Vec<&str> = rows.iter().map(|r| r["id"].as_str().unwrap()).collect();
            ids.sort_unstable();
            ids.dedup();
            assert_eq!(ids.len(), 33, "{sort}: every user once");
            let keys: Vec<_> = rows.iter().map(|r| sort_key(r, sort)).collect();
            let mut sorted = keys.clone();
            sorted.sort();
            if descending {
                sorted.reverse();
            }
            assert_eq!(keys, sorted, "{sort} descending={descending}");
        }
    }
    let first = all_pages(&app, "Email", false).await;
    assert_eq!(first[0]["rows"][0]["email"], admin.email.as_str());
}

/// A cursor the server did not make, and a session cookie naming ids no store key could hold, are
/// refused with a clear answer, not a failure.
#[tokio::test]
async fn bad_cursors_and_oversized_cookie_hints_are_refused() {
    let app = spawn_app().await;
    log_in_admin(&app).await;
    let cursor = json!({ "sort_value": "", "user_id": "x", "backwards": false, "page": 1 });
    let reply =
        app.call("accounts/users", json!({ "sort": "Name", "descending": false, "at": cursor })).await;
    assert_eq!(reply.status, 400, "{:?}", reply.body);
    let cookie = app.cookie("__Host-session").unwrap();
    let token = cookie.split('.').next().unwrap();
    let long = hex::encode("a".repeat(5000));
    app.set_cookie("__Host-session", Some(format!("{token}.{long}.{long}")));
    let reply = app.me().await;
    assert_eq!(reply.status, 200, "{:?}", reply.body);
}

/// Guard: the Info counts are kept by the writes that change a status, and add up to what the
/// rows show after each kind of change.
#[tokio::test]
async fn the_info_counts_follow_every_status_change() {
    let app = spawn_app().await;
    log_in_admin(&app).await;
    let check = |label: &'static str| {
        let app = &app;
        async move {
            let pages = all_pages(app, "Name", false).await;
            let rows: Vec<&Value> = pages.iter().flat_map(|p| p["rows"].as_array().unwrap()).collect();
            let count = |status: &str| rows.iter().filter(|r| r["two_factor"] == status).count();
            let info = &pages[0]["info"];
            assert_eq!(info["active"], count("Active"), "{label}");
            assert_eq!(info["enabled_not_activated"], count("EnabledNotActivated"), "{label}");
            assert_eq!(info["off"], count("Off"), "{label}");
            assert_eq!(pages[0]["total"], rows.len(), "{label}");
        }
    };
    check("seeded").await;
    let grey = app.add_user("grey", Role::Technician).await;
    assert_eq!(act(&app, &grey.id, "EnableTwoFactor").await.status, 200);
    check("enabled by an administrator").await;
    let (green, _, _) = crate::active_user(&app, "green").await;
    check("self-enabled and activated").await;
    assert_eq!(act(&app, &green.id, "ResetTwoFactor").await.status, 200);
    check("reset").await;
    assert_eq!(act(&app, &green.id, "DisableTwoFactor").await.status, 200);
    assert_eq!(act(&app, &grey.id, "DisableTwoFactor").await.status, 200);
    check("disabled").await;
    // A refused change moves nothing.
    assert_ne!(act(&app, &grey.id, "DisableTwoFactor").await.status, 200);
    check("refused").await;
    let wide = json!({ "settings": { "account_wide_2fa": true, "remote_2fa_required_from": null, "ip_verification": true } });
    assert_eq!(app.call("accounts/save-settings", wide).await.status, 200);
    check("account-wide").await;
}

/// The log names people and devices as the dashboard does, and each event in words, with its
/// code kept as data.
#[tokio::test]
async fn the_audit_log_names_devices_and_events_as_the_dashboard_does() {
    let app = spawn_app().await;
    log_in_admin(&app).await;
    assert_eq!(app.start_remote("d1", "TakeControl", true).await.status, 200);
    let log = app
        .call("accounts/audit", json!({ "user_id": null, "action": "remote.started", "cursor": null }))
        .await;
    let row = &log.body["rows"][0];
    assert_eq!(row["action"], "remote.started");
    assert_eq!(row["label"], "Remote session started");
    assert_eq!(row["detail"], "Take Control on FRONTDESK-PC01");
}

#[tokio::test]
async fn the_audit_log_filters_by_user() {
    let app = spawn_app().await;
    log_in_admin(&app).await;
    act(&app, &app.tech.id, "EnableTwoFactor").await;
    let log =
        app.call("accounts/audit", json!({ "user_id": app.tech.id, "action": null, "cursor": null })).await;
    let rows = log.body["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 1, "{:?}", log.body);
    assert_eq!(rows[0]["action"], "2fa.enabled_by_admin");
    assert_eq!(rows[0]["subject"], format!("User {}", app.email("tech")));
    let _ = code_now;
}

#[tokio::test]
async fn users_stored_before_the_grid_index_are_listed_once_indexed() {
    let app = spawn_app().await;
    log_in_admin(&app).await;
    let old = app.add_user("old-timer", Role::Technician).await;
    // As stored before the User Accounts index existed.
    // It logged in since the new code was deployed: its last-login value is there already.
    app.write_user_item(&old, "REMOVE gsi2pk, gsi2sk, gsi3sk, gsi4sk, gsi5sk", None).await;
    // And an account whose counts were never kept.
    app.store
        .client()
        .update_item()
        .table_name(app.store.table())
        .key("pk", aws_sdk_dynamodb::types::AttributeValue::S(format!("ACCOUNT#{}", old.account_id)))
        .key("sk", aws_sdk_dynamodb::types::AttributeValue::S("ACCOUNT".into()))
        .update_expression("REMOVE users_active, users_enabled, users_off")
        .send()
        .await
        .unwrap();
    let listed = |page: &Value| page["rows"].as_array().unwrap().iter().any(|r| r["id"] == old.id.as_str());
    assert!(!listed(&users(&app).await));
    assert_eq!(app.store.index_users().await.unwrap(), 1);
    assert_eq!(app.store.index_users().await.unwrap(), 0, "once");
    let page = users(&app).await;
    assert!(listed(&page));
    // The tech, the admin and the old-timer, all without 2FA.
    assert_eq!(page["info"]["off"], 3);
    assert_eq!(page["total"], 3);
}

#[tokio::test]
async fn the_dashboard_and_the_info_section_follow_general_settings() {
    let app = spawn_app().await;
    log_in_admin(&app).await;
    let save = |from: Value, ip_verification: bool| {
        let settings = json!({ "settings": {
            "account_wide_2fa": false, "remote_2fa_required_from": from, "ip_verification": ip_verification,
        } });
        async { assert_eq!(app.call("accounts/save-settings", settings).await.status, 200) }
    };

    // 00:00 UTC on a day in 2030.
    save(json!(1_899_936_000), true).await;
    assert_eq!(app.me().await.body["remote_2fa"], json!({ "RequiredFrom": 1_899_936_000 }));
    assert_eq!(users(&app).await["info"]["ip_verification"], true);

    // 00:00 UTC on a day in the past: required now.
    save(json!(1_699_920_000), false).await;
    assert_eq!(app.me().await.body["remote_2fa"], "Required");
    assert_eq!(users(&app).await["info"]["ip_verification"], false);

    save(Value::Null, true).await;
    assert_eq!(app.me().await.body["remote_2fa"], "Recommended");

    // The date field gives days: a time of day is refused, and nothing changes.
    let noon = json!({ "settings": {
        "account_wide_2fa": false, "remote_2fa_required_from": 1_899_936_000 + 43_200, "ip_verification": true,
    } });
    assert_eq!(app.call("accounts/save-settings", noon).await.status, 400);
    assert_eq!(app.me().await.body["remote_2fa"], "Recommended");
}
