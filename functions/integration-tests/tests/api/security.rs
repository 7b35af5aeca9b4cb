//! Hardening: activation bound to its login, step-up before lowering security, revocation by
//! session epoch, and a lockout that strangers cannot turn against the owner.

use aws_sdk_dynamodb::types::AttributeValue;
use domain::Role;
use serde_json::{Value, json};

use crate::{
    PASSWORD, TestApp, active_user, admin_with_2fa, age_session, assert_signed_out, code_now, grey_user, now,
    spawn_app,
};

async fn act(browser: &TestApp, user_id: &str, action: &str) -> crate::Reply {
    browser.call("accounts/user-action", json!({ "user_id": user_id, "action": action })).await
}

async fn step_up(browser: &TestApp, secret: &str) -> crate::Reply {
    browser.call("auth/step-up", json!({ "secret": secret })).await
}

fn settings(account_wide: bool, ip_verification: bool) -> Value {
    json!({ "settings": { "account_wide_2fa": account_wide, "remote_2fa_required_from": null, "ip_verification": ip_verification } })
}

/// The stored item whose `pk` starts with `prefix` (exactly one).
async fn item_with_prefix(app: &TestApp, prefix: &str) -> std::collections::HashMap<String, AttributeValue> {
    let mut found: Vec<_> = app
        .items()
        .await
        .into_iter()
        .filter(|i| matches!(i.get("pk"), Some(AttributeValue::S(pk)) if pk.starts_with(prefix)))
        .collect();
    assert_eq!(found.len(), 1, "items under {prefix}");
    found.remove(0)
}

fn number(item: &std::collections::HashMap<String, AttributeValue>, name: &str) -> i64 {
    item[name].as_n().unwrap().parse().unwrap()
}

// 1. Email validation and the pending secret belong to the login that proved them.

#[tokio::test]
async fn an_email_validated_in_one_login_does_not_carry_over_to_another() {
    let app = spawn_app().await;
    let (user, email) = grey_user(&app, "grey").await;
    // The owner validates their email, then stops: the phone is not at hand.
    let owner = app.browser_with_email_validated(&email).await;
    // Kept no longer than the login it belongs to.
    let enroll_expiry = app
        .items()
        .await
        .iter()
        .find(|i| matches!(i.get("sk"), Some(AttributeValue::S(sk)) if sk.starts_with("ENROLL#")))
        .map(|i| number(i, "expires_at"))
        .unwrap();
    let challenge = item_with_prefix(&app, "CHALLENGE#").await;
    assert!(enroll_expiry <= number(&challenge, "expires_at"));

    // Someone else with only the password starts at the email step.
    let intruder = app.browser();
    assert_eq!(
        intruder.login(&email, PASSWORD).await.body,
        json!({ "ActivationRequired": { "email": email } })
    );
    let status = intruder.call("enroll/status", json!({})).await;
    assert_eq!(
        (status.body["email_verified"].clone(), status.body["code_sent"].clone()),
        (json!(false), json!(false))
    );
    let setup = intruder.call("enroll/authenticator", json!({})).await;
    assert_eq!((setup.status, setup.message()), (400, "Validate your email address first."));

    // The owner's own login is unaffected until another login starts an activation.
    assert_eq!(owner.call("enroll/status", json!({})).await.body["email_verified"], json!(true));
    assert_eq!(owner.call("enroll/authenticator", json!({})).await.status, 200);
    assert!(app.user(&user).await.two_factor.activated_at.is_none());
}

#[tokio::test]
async fn a_pending_secret_shown_to_one_login_cannot_be_confirmed_from_another() {
    let app = spawn_app().await;
    let (user, email) = grey_user(&app, "grey").await;
    let first = app.browser_with_email_validated(&email).await;
    let setup = first.call("enroll/authenticator", json!({})).await;
    let secret = domain::totp::TotpSecret::from_base32(setup.body["manual_key"].as_str().unwrap()).unwrap();
    // A second login validates the email again (as the owner could): its activation replaces the
    // first one, and the secret shown there no longer counts.
    let second = app.browser_with_email_validated(&email).await;
    let confirmed = second.call("enroll/activate", json!({ "code": code_now(&secret, 0) })).await;
    assert_eq!((confirmed.status, confirmed.message()), (400, "Set up your authenticator app first."));
    let confirmed = first.call("enroll/activate", json!({ "code": code_now(&secret, 0) })).await;
    assert_eq!(confirmed.status, 400, "{:?}", confirmed.body);
    assert!(app.user(&user).await.two_factor.activated_at.is_none());
}

// 2. Step-up before lowering security; never on one's own row.

#[tokio::test]
async fn an_administrator_with_2fa_confirms_a_disable_with_a_current_passcode() {
    let app = spawn_app().await;
    let (admin, _, secret) = admin_with_2fa(&app, "admin").await;
    app.store.enable_two_factor(&app.tech, &app.tech.id, now()).await.unwrap();
    age_session(&admin).await;
    let asked = act(&admin, &app.tech.id, "DisableTwoFactor").await;
    assert_eq!(asked.status, 403, "{:?}", asked.body);
    assert_eq!(
        (asked.body["kind"].clone(), asked.body["passcode"].clone()),
        (json!("StepUpRequired"), json!(true))
    );
    assert!(app.user(&app.tech).await.two_factor.enabled.is_some(), "nothing changed");
    // The password is not enough for an administrator with 2FA; a wrong code neither.
    assert_eq!(step_up(&admin, PASSWORD).await.status, 400);
    assert_eq!(step_up(&admin, "000000").await.status, 400);
    let code = code_now(&secret, 1);
    assert_eq!(step_up(&admin, &code).await.status, 200);
    // One code, one use.
    assert_eq!(step_up(&admin, &code).await.status, 400);
    let done = act(&admin, &app.tech.id, "DisableTwoFactor").await;
    assert_eq!(done.status, 200, "{:?}", done.body);
    assert!(app.user(&app.tech).await.two_factor.enabled.is_none());
    let audit = app.audit().await;
    assert!(
        audit.iter().any(|(a, d)| a == "session.step_up" && d == "confirmed with a passcode"),
        "{audit:?}"
    );
    assert!(
        audit.iter().any(|(a, d)| a == "2fa.disabled_by_admin"
            && *d == format!("Disable 2FA by User admin@{}", app.domain))
    );
}

#[tokio::test]
async fn an_administrator_without_2fa_confirms_with_the_password_and_is_named_so() {
    let app = spawn_app().await;
    // The seed's "ask a colleague to disable 2FA for your account", where the colleague has not
    // activated 2FA yet.
    let (stuck, _, _) = active_user(&app, "stuck").await;
    let colleague = app.browser();
    app.add_user("colleague", Role::Administrator).await;
    assert_eq!(colleague.login(&app.email("colleague"), PASSWORD).await.status, 200);
    age_session(&colleague).await;
    let asked = act(&colleague, &stuck.id, "DisableTwoFactor").await;
    assert_eq!((asked.status, asked.body["passcode"].clone()), (403, json!(false)));
    assert_eq!(step_up(&colleague, "wrong-password").await.status, 400);
    assert_eq!(step_up(&colleague, PASSWORD).await.status, 200);
    assert_eq!(act(&colleague, &stuck.id, "DisableTwoFactor").await.status, 200);
    let without = "(an administrator without two-factor authentication)";
    let audit = app.audit().await;
    assert!(audit.iter().any(|(a, d)| a == "2fa.disabled_by_admin" && d.ends_with(without)), "{audit:?}");
    let mail = app.mail_to(&stuck.email.to_string()).await;
    let last = mail.last().unwrap()["body"]["text"].as_str().unwrap().to_owned();
    assert!(last.contains(without), "{last}");
}

#[tokio::test]
async fn every_lowering_needs_a_step_up_and_raising_does_not() {
    let app = spawn_app().await;
    let (admin, _, secret) = admin_with_2fa(&app, "admin").await;
    let (active, _, _) = active_user(&app, "active").await;
    assert_eq!(admin.call("accounts/save-settings", settings(true, true)).await.status, 200);
    age_session(&admin).await;
    // Raising needs none.
    let later = json!({ "settings": { "account_wide_2fa": true, "remote_2fa_required_from": 3_999_974_400i64, "ip_verification": true } });
    assert_eq!(admin.call("accounts/save-settings", later).await.status, 200);
    let earlier = json!({ "settings": { "account_wide_2fa": true, "remote_2fa_required_from": 2_999_980_800i64, "ip_verification": true } });
    assert_eq!(admin.call("accounts/save-settings", earlier).await.status, 200);
    // Each lowering is refused unchanged without one.
    let lowerings = [
        ("accounts/save-settings", settings(false, true)),
        ("accounts/save-settings", settings(true, false)),
        (
            "accounts/save-settings",
            json!({ "settings": { "account_wide_2fa": true, "remote_2fa_required_from": null, "ip_verification": true } }),
        ),
        (
            "accounts/save-settings",
            json!({ "settings": { "account_wide_2fa": true, "remote_2fa_required_from": 3_499_977_600i64, "ip_verification": true } }),
        ),
        ("accounts/user-action", json!({ "user_id": active.id, "action": "PauseIpVerification" })),
        ("accounts/user-action", json!({ "user_id": active.id, "action": "ResetTwoFactor" })),
    ];
    let before = app.items().await.len();
    for (path, body) in &lowerings {
        let reply = admin.call(path, body.clone()).await;
        assert_eq!(
            (reply.status, reply.body["kind"].clone()),
            (403, json!("StepUpRequired")),
            "{path} {body}"
        );
    }
    assert_eq!(app.items().await.len(), before, "nothing written");
    assert_eq!(step_up(&admin, &code_now(&secret, 1)).await.status, 200);
    for (path, body) in &lowerings[4..] {
        assert_eq!(admin.call(path, body.clone()).await.status, 200, "{path} {body}");
    }
}

#[tokio::test]
async fn no_administrator_may_lower_security_on_their_own_row() {
    let app = spawn_app().await;
    let (admin, me, _) = admin_with_2fa(&app, "admin").await;
    for action in ["DisableTwoFactor", "ResetTwoFactor", "PauseIpVerification"] {
        let reply = act(&admin, &me.id, action).await;
        assert_eq!(reply.status, 403, "{action}: {:?}", reply.body);
    }
    assert!(app.user(&me).await.two_factor.activated_at.is_some());
    let page = admin.call("accounts/users", json!({ "sort": "Name", "descending": false, "at": null })).await;
    let own =
        page.body["rows"].as_array().unwrap().iter().find(|r| r["id"] == me.id.as_str()).unwrap().clone();
    for item in own["menu"].as_array().unwrap() {
        if item["confirm"] == json!(true) {
            assert!(item["unavailable_because"].as_str().unwrap().contains("your own login"), "{item}");
        }
    }
}

#[tokio::test]
async fn wrong_step_ups_are_counted_by_the_lockout() {
    let app = spawn_app().await;
    let admin = app.browser();
    app.add_user("admin", Role::Administrator).await;
    assert_eq!(admin.login(&app.email("admin"), PASSWORD).await.status, 200);
    for _ in 0..4 {
        assert_eq!(step_up(&admin, "wrong-password").await.status, 400);
    }
    assert_eq!(step_up(&admin, "wrong-password").await.status, 429);
    // Locked like a login: even the right password waits.
    assert_eq!(step_up(&admin, PASSWORD).await.status, 429);
    assert_eq!(app.browser().login(&app.email("admin"), PASSWORD).await.status, 429);
}

// 3. Revocation by epoch: immediate, without deleting anything.

async fn sessions_of(app: &TestApp, user_id: &str) -> usize {
    app.items()
        .await
        .iter()
        .filter(|i| matches!(i.get("pk"), Some(AttributeValue::S(pk)) if pk.starts_with("SESSION#")))
        .filter(|i| matches!(i.get("user_id"), Some(AttributeValue::S(id)) if id == user_id))
        .count()
}

#[tokio::test]
async fn a_reset_ends_the_users_2fa_session_at_once_though_its_item_stays() {
    let app = spawn_app().await;
    let (user, secret, _) = active_user(&app, "phone-lost").await;
    let victim = app.browser();
    assert_eq!(victim.login(user.email.as_str(), PASSWORD).await.status, 200);
    assert_eq!(victim.passcode(&code_now(&secret, 1)).await.status, 200);
    let (admin, _, _) = admin_with_2fa(&app, "admin").await;
    let reset = act(&admin, &user.id, "ResetTwoFactor").await;
    assert_eq!(reset.status, 200, "{:?}", reset.body);
    assert_eq!(sessions_of(&app, &user.id).await, 1, "left for the user to be told why it ended");
    // The gate trusts a 2FA session without reading the user, but its write checks the epoch.
    let started = victim.start_remote("d1", "TakeControl", false).await;
    assert_eq!(started.status, 401, "{:?}", started.body);
    assert!(!app.audit().await.iter().any(|(a, _)| a == "remote.started"));
    assert_signed_out(&victim).await;
    assert_eq!(sessions_of(&app, &user.id).await, 0, "presented once ended, it is deleted");
}

#[tokio::test]
async fn a_disable_ends_every_session_of_the_user_in_the_same_write() {
    let app = spawn_app().await;
    app.store.enable_two_factor(&app.tech, &app.tech.id, now()).await.unwrap();
    let (admin, _, _) = admin_with_2fa(&app, "admin").await;
    let tech = app.browser();
    // A session from before 2FA was enabled.
    let disabled = app
        .store
        .apply_admin_action(
            &app.user(&app.tech).await,
            domain::admin::AdminAction::DisableTwoFactor,
            "x",
            now(),
            &api::server::audit::event(
                &app.tech.account_id,
                "x",
                &app.tech.id,
                domain::audit::AuditAction::DisabledByAdmin,
                "ip",
                "setup",
            ),
        )
        .await
        .unwrap();
    assert_eq!(disabled, store::AdminChange::Applied);
    assert_eq!(tech.login(&app.email("tech"), PASSWORD).await.status, 200);
    app.store.enable_two_factor(&app.tech, &app.tech.id, now()).await.unwrap();
    assert_eq!(act(&admin, &app.tech.id, "DisableTwoFactor").await.status, 200);
    assert_signed_out(&tech).await;
    assert_eq!(tech.devices().await.status, 401);
}

/// An ended session's next call says why it ended, so the app can send the user back to the login
/// with that message.
#[tokio::test]
async fn an_ended_session_says_why() {
    let app = spawn_app().await;
    let (admin, _, _) = admin_with_2fa(&app, "admin").await;
    let why = |reply: crate::Reply| {
        assert_eq!(reply.status, 401, "{:?}", reply.body);
        assert_eq!(reply.body["kind"], "Unauthenticated");
        reply.body["message"].as_str().unwrap_or_default().to_owned()
    };
    // Time is up.
    let tech = app.browser();
    assert_eq!(tech.login(&app.email("tech"), PASSWORD).await.status, 200);
    tech.set_long_ago("__Host-session", "SESSION", "expires_at").await;
    assert!(why(tech.devices().await).contains("sessions last 8 hours"));
    // A colleague changed their 2FA.
    let (user, secret, _) = active_user(&app, "with-2fa").await;
    let browser = app.browser();
    assert_eq!(browser.login(user.email.as_str(), PASSWORD).await.status, 200);
    assert_eq!(browser.passcode(&code_now(&secret, 1)).await.status, 200);
    assert_eq!(act(&admin, &user.id, "ResetTwoFactor").await.status, 200);
    assert!(why(browser.devices().await).contains("an administrator changed the two-factor authentication"));
    // Account-wide 2FA came in.
    let tech = app.browser();
    assert_eq!(tech.login(&app.email("tech"), PASSWORD).await.status, 200);
    assert_eq!(admin.call("accounts/save-settings", settings(true, true)).await.status, 200);
    assert!(why(tech.devices().await).contains("now required for everyone in your account"));
}

#[tokio::test]
async fn switching_account_wide_2fa_on_ends_the_sessions_that_did_not_use_2fa() {
    let app = spawn_app().await;
    let (admin, _, _) = admin_with_2fa(&app, "admin").await;
    let (user, secret, _) = active_user(&app, "with-2fa").await;
    let with_2fa = app.browser();
    assert_eq!(with_2fa.login(user.email.as_str(), PASSWORD).await.status, 200);
    assert_eq!(with_2fa.passcode(&code_now(&secret, 1)).await.status, 200);
    let tech = app.browser();
    assert_eq!(tech.login(&app.email("tech"), PASSWORD).await.status, 200);
    // A second administrator without 2FA switches it on: they keep working, set up 2FA at their
    // next login.
    let other_admin = app.browser();
    app.add_user("other-admin", Role::Administrator).await;
    assert_eq!(other_admin.login(&app.email("other-admin"), PASSWORD).await.status, 200);
    assert_eq!(other_admin.call("accounts/save-settings", settings(true, true)).await.status, 200);
    assert_signed_out(&tech).await;
    assert_eq!(tech.start_remote("d1", "TakeControl", true).await.status, 401);
    assert_eq!(with_2fa.me().await.body["email"], json!(user.email.as_str()));
    assert_eq!(admin.me().await.status, 200);
    assert_eq!(other_admin.me().await.body["email"], json!(app.email("other-admin")));
}

// 4. A lockout that protects without locking the owner out.

/// Four addresses, five guesses each: twenty failures, the most the unknown places get. The
/// answers, in order.
async fn guess_from_four_unknown_places(attacker: &TestApp, email: &str) -> Vec<crate::Reply> {
    let mut replies = Vec::new();
    for n in 1..=4 {
        attacker.connect_from(&format!("198.51.100.{n}"));
        for _ in 0..5 {
            replies.push(attacker.login(email, "guess").await);
        }
    }
    replies
}

#[tokio::test]
async fn failures_from_unknown_places_lock_them_but_not_the_owners_verified_range() {
    let app = spawn_app().await;
    let email = app.email("tech");
    let attacker = app.browser();
    for reply in guess_from_four_unknown_places(&attacker, &email).await {
        assert!(reply.status == 401 || reply.status == 429, "{:?}", reply.body);
    }
    attacker.connect_from("203.0.113.50");
    assert_eq!(attacker.login(&email, PASSWORD).await.status, 429, "a new place is locked");
    // The owner at their verified office is not.
    let owner = app.browser();
    assert_eq!(owner.login(&email, PASSWORD).await.status, 200);
    // And was told once.
    let notices: Vec<Value> = app
        .mail_to(&email)
        .await
        .into_iter()
        .filter(|m| m["subject"].as_str().unwrap().contains("from new places are paused"))
        .collect();
    assert_eq!(notices.len(), 1);
}

#[tokio::test]
async fn a_browser_that_completed_a_login_before_stays_known_in_a_new_place() {
    let app = spawn_app().await;
    let email = app.email("tech");
    let laptop = app.browser();
    assert_eq!(laptop.login(&email, PASSWORD).await.status, 200);
    assert!(laptop.cookie("__Host-device").is_some());
    laptop.logout().await;
    let attacker = app.browser();
    guess_from_four_unknown_places(&attacker, &email).await;
    // The laptop travels: a new place, but a known browser. Its password is checked (and the new
    // place verified by email, as always).
    laptop.connect_from("203.0.113.50");
    let reply = laptop.login(&email, PASSWORD).await;
    assert_eq!(reply.body, json!({ "IpVerificationRequired": { "email": email } }));
    // A forged or another user's device cookie counts for nothing.
    let other = app.browser();
    other.connect_from("203.0.113.50");
    other.set_cookie("__Host-device", laptop.cookie("__Host-device").map(|c| c.replace('a', "b")));
    assert_eq!(other.login(&email, PASSWORD).await.status, 429);
}

#[tokio::test]
async fn an_ipv6_subscriber_is_counted_by_its_64() {
    let app = spawn_app().await;
    let email = app.email("tech");
    let attacker = app.browser();
    for n in 1..=5 {
        attacker.connect_from(&format!("2001:db8:1:2::{n}"));
        assert_eq!(attacker.login(&email, "guess").await.status, if n < 5 { 401 } else { 429 });
    }
    attacker.connect_from("2001:db8:1:2:ffff::99");
    assert_eq!(attacker.login(&email, "guess").await.status, 429, "another address of the same /64");
    attacker.connect_from("2001:db8:1:3::1");
    assert_eq!(attacker.login(&email, "guess").await.status, 401, "another subscriber");
}
