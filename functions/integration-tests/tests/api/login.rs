//! Password login, sessions, logout, lockout, bad input, Origin.

use aws_sdk_dynamodb::types::AttributeValue;
use domain::UnixTime;
use domain::secret::sha256_hex;
use serde_json::json;
use store::Session;

use crate::{ORIGIN, PASSWORD, assert_signed_out, spawn_app};

#[tokio::test]
async fn login_sets_a_strict_session_cookie_and_stores_only_its_hash() {
    let app = spawn_app().await;
    let reply = app.login(&format!(" Tech@{} ", app.domain.to_uppercase()), PASSWORD).await;
    assert_eq!(reply.status, 200, "{:?}", reply.body);
    assert_eq!(reply.body["SignedIn"]["email"], app.email("tech").as_str());
    assert_eq!(reply.body["SignedIn"]["role"], "Technician");
    assert_eq!(reply.body["SignedIn"]["account_name"], "Test MSP");

    let cookie = reply.set_cookies.iter().find(|c| c.starts_with("__Host-session=")).unwrap().clone();
    for attr in ["HttpOnly", "Secure", "SameSite=Strict", "Path=/"] {
        assert!(cookie.contains(attr), "cookie lacks {attr}: {cookie}");
    }
    // The token, then the account and user (hex) so that one read finds all three.
    let value = cookie.split(';').next().unwrap().split_once('=').unwrap().1.to_owned();
    let parts: Vec<&str> = value.split('.').collect();
    let user = app.user(&app.tech).await;
    assert_eq!(parts[1..], [hex::encode(&user.account_id), hex::encode(&user.id)]);
    let token = parts[0].to_owned();
    assert_eq!(token.len(), 64);

    let items = app.items().await;
    let sessions: Vec<_> = items
        .iter()
        .filter_map(|i| match i.get("pk") {
            Some(AttributeValue::S(pk)) if pk.starts_with("SESSION#") => Some(pk.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(sessions, [format!("SESSION#{}", sha256_hex(&token))]);
    assert!(!format!("{items:?}").contains(&token), "the raw token is stored");

    let me = app.me().await;
    assert_eq!(me.status, 200);
    assert_eq!(me.body["name"], format!("User {}", app.email("tech")));
}

/// The account and user named in the session cookie only say what to read: a cookie whose token
/// is someone's session but that names another user is no session at all, and a cookie without
/// them (set before they were added) still works.
#[tokio::test]
async fn a_session_cookie_naming_another_user_is_refused() {
    let app = spawn_app().await;
    let (other, _, _) = crate::active_user(&app, "other").await;
    assert_eq!(app.login(&app.email("tech"), PASSWORD).await.status, 200);
    let cookie = app.cookie("__Host-session").unwrap();
    let token = cookie.split('.').next().unwrap().to_owned();
    let forged = format!("{token}.{}.{}", hex::encode(&other.account_id), hex::encode(&other.id));
    app.set_cookie("__Host-session", Some(forged));
    assert_eq!(app.me().await.body, serde_json::Value::Null);
    app.set_cookie("__Host-session", Some(token));
    assert_eq!(app.me().await.body["email"], app.email("tech").as_str());
}

#[tokio::test]
async fn wrong_password_and_unknown_email_get_the_same_answer() {
    let app = spawn_app().await;
    let wrong = app.login(&app.email("tech"), "not-the-password").await;
    let unknown = app.login(&app.email("nobody"), "not-the-password").await;
    assert_eq!(wrong.status, 401);
    assert_eq!(unknown.status, 401);
    assert_eq!(wrong.body, unknown.body);
    assert!(wrong.set_cookies.is_empty());
    assert_signed_out(&app).await;
    assert_eq!(app.item_count_with_prefix("SESSION#").await, 0);
}

#[tokio::test]
async fn five_failures_lock_the_login_even_with_the_right_password_then() {
    let app = spawn_app().await;
    for i in 0..4 {
        let reply = app.login(&app.email("tech"), "wrong").await;
        assert_eq!(reply.status, 401, "attempt {i}");
    }
    let fifth = app.login(&app.email("tech"), "wrong").await;
    assert_eq!(fifth.status, 429, "{:?}", fifth.body);
    assert!(fifth.body["message"].as_str().unwrap().contains("locked until"));
    assert!(fifth.body["until"].as_i64().unwrap() > 0);

    let right = app.login(&app.email("tech"), PASSWORD).await;
    assert_eq!(right.status, 429);
    assert!(right.set_cookies.is_empty());
    // Another user is not affected.
    let other = app.login(&format!("tech@other-{}", app.domain), PASSWORD).await;
    assert_eq!(other.status, 200);
}

#[tokio::test]
async fn concurrent_failures_are_all_counted() {
    let app = spawn_app().await;
    let email = app.email("tech");
    let attempts = (0..5).map(|_| app.login(&email, "wrong"));
    let replies = futures::future::join_all(attempts).await;
    assert!(replies.iter().all(|r| r.status == 401 || r.status == 429));
    let next = app.login(&app.email("tech"), PASSWORD).await;
    assert_eq!(next.status, 429, "five parallel failures must lock: {:?}", next.body);
}

#[tokio::test]
async fn a_forged_forwarded_for_header_does_not_escape_the_lockout() {
    let app = spawn_app().await;
    for i in 0..5 {
        let ip = format!("203.0.113.{i}");
        let body = json!({ "email": &app.email("tech"), "password": "wrong" }).to_string();
        app.call_with("auth/login", body, Some(ORIGIN), &[("x-forwarded-for", &ip)]).await;
    }
    let right = app.login(&app.email("tech"), PASSWORD).await;
    assert_eq!(right.status, 429);
}

#[tokio::test]
async fn a_successful_login_clears_earlier_failures() {
    let app = spawn_app().await;
    for _ in 0..4 {
        app.login(&app.email("tech"), "wrong").await;
    }
    assert_eq!(app.login(&app.email("tech"), PASSWORD).await.status, 200);
    assert_eq!(app.item_count_with_prefix("LOCKOUT#").await, 0);
    for _ in 0..4 {
        assert_eq!(app.login(&app.email("tech"), "wrong").await.status, 401);
    }
}

#[tokio::test]
async fn bad_input_gets_a_clear_400_and_changes_nothing() {
    let app = spawn_app().await;
    let before = app.items().await.len();
    let cases: Vec<(&str, String)> = vec![
        ("malformed json", "{\"email\": ".into()),
        ("missing field", json!({ "email": &app.email("tech") }).to_string()),
        ("wrong type", json!({ "email": 42, "password": true }).to_string()),
        ("not an email", json!({ "email": "tech", "password": "x" }).to_string()),
        ("empty password", json!({ "email": &app.email("tech"), "password": "" }).to_string()),
        ("oversized", json!({ "email": &app.email("tech"), "password": "x".repeat(20_000) }).to_string()),
        ("long password", json!({ "email": &app.email("tech"), "password": "x".repeat(300) }).to_string()),
    ];
    for (name, body) in cases {
        let reply = app.call_with("auth/login", body, Some(ORIGIN), &[]).await;
        assert_eq!(reply.status, 400, "{name}: {:?}", reply.body);
        assert_eq!(reply.body["kind"], "BadRequest", "{name}");
        let message = reply.body["message"].as_str().unwrap_or_default();
        assert!(!message.is_empty(), "{name} has no message");
    }
    assert_eq!(app.items().await.len(), before, "bad input changed the table");
    let unknown = app.call("auth/no-such-call", json!({})).await;
    assert_eq!(unknown.status, 400);
}

#[tokio::test]
async fn calls_from_another_origin_are_refused_and_change_nothing() {
    let app = spawn_app().await;
    let body = json!({ "email": &app.email("tech"), "password": PASSWORD }).to_string();
    for origin in [None, Some("http://evil.test")] {
        let reply = app.call_with("auth/login", body.clone(), origin, &[]).await;
        assert_eq!(reply.status, 403, "{origin:?}");
        assert!(reply.set_cookies.is_empty());
    }
    assert_eq!(app.item_count_with_prefix("SESSION#").await, 0);
}

#[tokio::test]
async fn logout_ends_the_session_on_the_server() {
    let app = spawn_app().await;
    app.login(&app.email("tech"), PASSWORD).await;
    let stolen = app.cookie("__Host-session");
    let reply = app.logout().await;
    assert_eq!(reply.status, 200);
    assert!(reply.set_cookies.iter().any(|c| c.starts_with("__Host-session=;") && c.contains("Max-Age=0")));
    assert_eq!(app.item_count_with_prefix("SESSION#").await, 0);
    // Replaying the old cookie does not work.
    app.set_cookie("__Host-session", stolen);
    assert_signed_out(&app).await;
}

#[tokio::test]
async fn devices_need_a_session_and_show_only_the_users_account() {
    let app = spawn_app().await;
    assert_eq!(app.devices().await.status, 401);
    app.login(&app.email("tech"), PASSWORD).await;
    let reply = app.devices().await;
    assert_eq!(reply.status, 200);
    let names: Vec<&str> =
        reply.body.as_array().unwrap().iter().map(|d| d["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["FRONTDESK-PC01"]);
    app.forget_cookies();
    app.login(&format!("tech@other-{}", app.domain), PASSWORD).await;
    let reply = app.devices().await;
    let names: Vec<&str> =
        reply.body.as_array().unwrap().iter().map(|d| d["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["OTHER-SECRET-PC"]);
}

#[tokio::test]
async fn an_expired_or_forged_session_is_refused() {
    let app = spawn_app().await;
    let token = domain::secret::BearerToken::generate();
    app.store
        .create_session(
            &token.hash(),
            &Session {
                user_id: app.tech.id.clone(),
                account_id: app.tech.account_id.clone(),
                expires_at: UnixTime(1_000),
                two_factor: false,
                epochs: domain::session::Epochs { user: 0, account: 0 },
                reauth: domain::session::Reauth { at: UnixTime(0), two_factor: false },
            },
        )
        .await
        .unwrap();
    app.set_cookie("__Host-session", Some(token.expose().to_owned()));
    assert_signed_out(&app).await;
    app.set_cookie("__Host-session", Some("a".repeat(64)));
    assert_signed_out(&app).await;
    app.set_cookie("__Host-session", Some("garbage".into()));
    assert_signed_out(&app).await;
}

#[tokio::test]
async fn failed_logins_of_unknown_emails_expire_and_spread_over_partitions() {
    let app = spawn_app().await;
    let mut partitions = std::collections::BTreeSet::new();
    for i in 0..4 {
        let email = app.email(&format!("nobody{i}"));
        assert_eq!(app.login(&email, "whatever").await.status, 401);
        let shard = &domain::secret::sha256_hex(&email)[..2];
        partitions.insert(format!("ACCOUNT#-{shard}#AUDIT"));
    }
    let items = app.items().await;
    let audited: Vec<_> = items
        .iter()
        .filter(|i| matches!(i.get("action"), Some(aws_sdk_dynamodb::types::AttributeValue::S(a)) if a == "login.failure"))
        .collect();
    assert_eq!(audited.len(), 4);
    let found: std::collections::BTreeSet<String> = audited
        .iter()
        .map(|i| match i.get("pk") {
            Some(aws_sdk_dynamodb::types::AttributeValue::S(pk)) => pk.clone(),
            _ => panic!("no pk"),
        })
        .collect();
    assert_eq!(found, partitions, "each email's failures in its own shard");
    let thirty_days = crate::now().seconds() + 30 * 86_400;
    for item in audited {
        let Some(aws_sdk_dynamodb::types::AttributeValue::N(expires)) = item.get("expires_at") else {
            panic!("no TTL: {item:?}");
        };
        assert!((thirty_days - 5..=thirty_days + 5).contains(&expires.parse::<i64>().unwrap()));
    }
}

/// A right password is no failure: four typos, then the right password and passcode, log in.
#[tokio::test]
async fn four_typos_then_the_right_password_and_passcode_log_in() {
    let app = spawn_app().await;
    let (user, secret, _) = crate::active_user(&app, "sam").await;
    for _ in 0..4 {
        assert_eq!(app.login(user.email.as_str(), "typo").await.status, 401);
    }
    assert_eq!(app.login(user.email.as_str(), PASSWORD).await.body, json!("PasscodeRequired"));
    let passcode = app.passcode(&crate::code_now(&secret, 1)).await;
    assert_eq!(passcode.status, 200, "{:?}", passcode.body);
    // Active 2FA meets the requirement for remote sessions, on the passcode's answer as on `me`.
    assert_eq!(passcode.body["me"]["remote_2fa"], "Met");
    assert_eq!(app.me().await.body["remote_2fa"], "Met");
}

/// Wrong passcodes count: four are forgiven by the right fifth code, five end the login.
#[tokio::test]
async fn four_wrong_passcodes_then_the_right_one_log_in_and_five_end_the_login() {
    let app = spawn_app().await;
    let (user, secret, _) = crate::active_user(&app, "sam").await;
    let right = crate::code_now(&secret, 1);
    let wrong = if right == "000000" { "111111" } else { "000000" };
    assert_eq!(app.login(user.email.as_str(), PASSWORD).await.body, json!("PasscodeRequired"));
    for _ in 0..4 {
        assert_eq!(app.passcode(wrong).await.status, 401);
    }
    let passcode = app.passcode(&right).await;
    assert_eq!(passcode.status, 200, "{:?}", passcode.body);

    let other = app.browser();
    assert_eq!(other.login(user.email.as_str(), PASSWORD).await.body, json!("PasscodeRequired"));
    for _ in 0..4 {
        assert_eq!(other.passcode(wrong).await.status, 401);
    }
    let fifth = other.passcode(wrong).await;
    assert!(fifth.status == 401 || fifth.status == 429, "{:?}", fifth.body);
    assert!(other.cookie("__Host-login").is_none(), "the login ended");
    assert_eq!(other.passcode(&crate::code_now(&secret, 2)).await.status, 401);
}

/// TOTP secrets are bound to their user: one copied into another user's item opens for no one.
#[tokio::test]
async fn a_totp_secret_copied_to_another_user_does_not_let_them_in() {
    let app = spawn_app().await;
    let (alice, alice_secret, _) = crate::active_user(&app, "alice").await;
    let (bob, _, _) = crate::active_user(&app, "bob").await;
    let copied = app.user(&alice).await.totp_secret.unwrap();
    app.store
        .client()
        .update_item()
        .table_name(app.store.table())
        .key("pk", AttributeValue::S(format!("ACCOUNT#{}", bob.account_id)))
        .key("sk", AttributeValue::S(format!("USER#{}", bob.id)))
        .update_expression("SET totp_secret = :copied")
        .expression_attribute_values(":copied", AttributeValue::S(copied))
        .send()
        .await
        .unwrap();
    assert_eq!(app.login(bob.email.as_str(), PASSWORD).await.body, json!("PasscodeRequired"));
    let reply = app.passcode(&crate::code_now(&alice_secret, 1)).await;
    assert_ne!(reply.status, 200, "{:?}", reply.body);
    assert!(app.cookie("__Host-session").is_none());
}
