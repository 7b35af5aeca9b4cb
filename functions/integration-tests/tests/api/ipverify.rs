//! IP address verification at login over HTTP: the wait, the link, the pause.

use domain::Role;
use serde_json::json;

use crate::{PASSWORD, spawn_app, tech_with_2fa};

const ELSEWHERE: &str = "127.0.77.1";

#[tokio::test]
async fn a_login_from_a_new_range_waits_for_the_link_then_continues() {
    let app = spawn_app().await;
    let email = app.email("tech");
    app.connect_from(ELSEWHERE);
    let login = app.login(&email, PASSWORD).await;
    assert_eq!(login.body["IpVerificationRequired"]["email"], email.as_str(), "{:?}", login.body);
    assert!(app.cookie("__Host-session").is_none());
    assert_eq!(app.devices().await.status, 401);
    let waiting = app.call("auth/login-status", json!({})).await;
    assert!(waiting.asks_ip_verification());

    // Resending waits a minute.
    assert_eq!(app.call("auth/resend-ip-link", json!({})).await.status, 400);

    let token = app.latest_ip_link_token(&email).await;
    let opened = app.verify_ip(&token).await;
    assert_eq!(opened.status, 200, "{:?}", opened.body);
    assert_eq!(opened.body, "127.0.77.0/24");
    let continued = app.call("auth/login-status", json!({})).await;
    assert!(continued.signed_in(), "{:?}", continued.body);
    assert_eq!(app.devices().await.status, 200);
    assert!(
        app.mail_to(&email)
            .await
            .iter()
            .any(|m| m["subject"].as_str().unwrap().contains("new location was verified"))
    );

    // Used once: the same link is refused; and the range is now trusted.
    assert_eq!(app.verify_ip(&token).await.status, 400);
    app.logout().await;
    assert!(app.login(&email, PASSWORD).await.signed_in());
    let actions: Vec<String> =
        app.store.list_audit(&app.tech.account_id, 50).await.unwrap().into_iter().map(|e| e.action).collect();
    assert!(actions.contains(&"ip_verification.sent".to_owned()));
    assert!(actions.contains(&"ip_verification.verified".to_owned()));
}

#[tokio::test]
async fn forged_expired_and_other_users_links_verify_nothing() {
    let app = spawn_app().await;
    let other = app.add_user("other", Role::Technician).await;
    app.connect_from(ELSEWHERE);
    // The other user's link (from their own login elsewhere).
    app.login(&other.email.to_string(), PASSWORD).await;
    let others_token = app.latest_ip_link_token(other.email.as_str()).await;
    app.forget_cookies();

    let email = app.email("tech");
    app.login(&email, PASSWORD).await;
    // Opening the other user's link verifies their range, not ours.
    assert_eq!(app.verify_ip(&others_token).await.status, 200);
    assert!(app.call("auth/login-status", json!({})).await.asks_ip_verification());
    assert!(!app.user(&app.tech).await.verified_ranges.contains(&"127.0.77.0/24".to_owned()));

    for bad in ["", "nonsense", &"a".repeat(64)] {
        assert_eq!(app.verify_ip(bad).await.status, 400, "{bad}");
    }
    // An expired link: move its expiry into the past.
    let token = app.latest_ip_link_token(&email).await;
    let hash = domain::secret::BearerToken::parse(&token).unwrap().hash();
    app.store
        .client()
        .update_item()
        .table_name(app.store.table())
        .key("pk", aws_sdk_dynamodb::types::AttributeValue::S(format!("IPLINK#{hash}")))
        .key("sk", aws_sdk_dynamodb::types::AttributeValue::S("IPLINK".into()))
        .update_expression("SET expires_at = :past")
        .expression_attribute_values(":past", aws_sdk_dynamodb::types::AttributeValue::N("1000".into()))
        .send()
        .await
        .unwrap();
    assert_eq!(app.verify_ip(&token).await.status, 400);
    assert!(app.call("auth/login-status", json!({})).await.asks_ip_verification());
}

#[tokio::test]
async fn a_paused_2fa_user_skips_ip_verification_until_their_2fa_is_reset() {
    let app = spawn_app().await;
    let (email, secret, _) = tech_with_2fa(&app).await;
    let admin = app.add_user("admin", Role::Administrator).await;
    app.login(admin.email.as_str(), PASSWORD).await;
    let pause = app
        .call("accounts/user-action", json!({ "user_id": app.tech.id, "action": "PauseIpVerification" }))
        .await;
    assert_eq!(pause.status, 200, "{:?}", pause.body);
    app.forget_cookies();

    app.connect_from(ELSEWHERE);
    let login = app.login(&email, PASSWORD).await;
    assert_eq!(login.body, json!("PasscodeRequired"), "{:?}", login.body);
    assert_eq!(app.passcode(&crate::code_now(&secret, 1)).await.status, 200);
    let actions: Vec<String> =
        app.store.list_audit(&app.tech.account_id, 50).await.unwrap().into_iter().map(|e| e.action).collect();
    assert!(actions.contains(&"ip_verification.skipped_paused".to_owned()));
    assert!(actions.contains(&"ip_verification.paused".to_owned()));

    // Reset ends the pause at once: the next login from a new range waits again.
    app.forget_cookies();
    app.connect_from("127.0.0.1");
    app.login(admin.email.as_str(), PASSWORD).await;
    app.call("accounts/user-action", json!({ "user_id": app.tech.id, "action": "ResetTwoFactor" })).await;
    app.forget_cookies();
    app.connect_from("127.0.88.1");
    let login = app.login(&email, PASSWORD).await;
    assert!(login.asks_ip_verification(), "{:?}", login.body);
}

#[tokio::test]
async fn the_account_setting_turns_ip_verification_off() {
    let app = spawn_app().await;
    app.store.set_ip_verification(&app.tech.account_id, false).await.unwrap();
    app.connect_from(ELSEWHERE);
    assert!(app.login(&app.email("tech"), PASSWORD).await.signed_in());
}

#[tokio::test]
async fn a_resent_link_revokes_the_earlier_one_names_the_login_address_and_resends_are_capped() {
    let app = spawn_app().await;
    let email = app.email("tech");
    let first = app.login_from_new_address(&email, "198.51.100.7").await;
    // The resend comes from somewhere else: the email still names the login's address.
    app.connect_from("203.0.113.9");
    app.a_minute_later().await;
    assert_eq!(app.call("auth/resend-ip-link", json!({})).await.status, 200);
    let second = app.latest_ip_link_token(&email).await;
    assert_ne!(first, second);
    let text = app.mail_to(&email).await.last().unwrap()["body"]["text"].as_str().unwrap().to_owned();
    assert!(text.contains("198.51.100.7") && !text.contains("203.0.113.9"), "{text}");
    // Only the newest link works.
    let opener = app.browser();
    assert_eq!(opener.verify_ip(&first).await.status, 400);
    // Five emails for one login at most.
    for _ in 0..3 {
        app.a_minute_later().await;
        assert_eq!(app.call("auth/resend-ip-link", json!({})).await.status, 200);
    }
    app.a_minute_later().await;
    let capped = app.call("auth/resend-ip-link", json!({})).await;
    assert_eq!(capped.status, 400, "{:?}", capped.body);
    assert!(capped.message().contains("Too many emails"), "{:?}", capped.body);
    assert_eq!(app.mail_to(&email).await.len(), 5);
    let newest = app.latest_ip_link_token(&email).await;
    assert_eq!(opener.verify_ip(&newest).await.body, "198.51.100.0/24");
}

#[tokio::test]
async fn an_ipv4_address_written_as_ipv6_is_ranged_as_ipv4() {
    let app = spawn_app().await;
    let email = app.email("tech");
    let token = app.login_from_new_address(&email, "::ffff:198.51.100.7").await;
    assert_eq!(app.verify_ip(&token).await.body, "198.51.100.0/24");
    // The same machine, seen as plain IPv4, is now trusted.
    let plain = app.browser();
    plain.connect_from("198.51.100.8");
    assert!(plain.login(&email, PASSWORD).await.signed_in());
}
