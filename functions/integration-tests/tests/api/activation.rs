//! Activation at login (email validation, authenticator, recovery codes) and passcode login.

use domain::totp::{TotpSecret, step_of};
use serde_json::{Value, json};

use crate::{PASSWORD, TestApp, code_now, grey_user, now, spawn_app};

#[tokio::test]
async fn a_grey_tick_user_is_taken_into_activation_and_ends_logged_in_with_2fa() {
    let app = spawn_app().await;
    let (user, email) = grey_user(&app, "grey").await;

    let login = app.login(&email, PASSWORD).await;
    assert_eq!(login.status, 200, "{:?}", login.body);
    assert_eq!(login.body["ActivationRequired"]["email"], email.as_str());
    assert!(app.cookie("__Host-session").is_none(), "no session before activation");
    assert!(app.cookie("__Host-login").is_some());
    // Not signed in yet: nothing but the activation flow is open.
    assert_eq!(app.devices().await.status, 401);

    validates_the_email_by_code(&app, &email).await;
    let secret = shows_an_authenticator_secret_not_yet_active(&app, &user).await;
    let codes = activates_with_a_valid_code(&app, &secret).await;
    keeps_the_secret_sealed_and_the_codes_hashed(&app, &user, &secret, &codes).await;
    // The user is told by email.
    let mail = app.mail_to(&email).await;
    assert!(mail.iter().any(|m| m["subject"].as_str().unwrap().contains("now active")));
}

/// Email validation: a code by mail, a wrong code is refused, the right one passes.
async fn validates_the_email_by_code(app: &TestApp, email: &str) {
    let status = app.call("enroll/status", json!({})).await;
    assert_eq!(status.body["email_verified"], false);
    let sent = app.call("enroll/send-code", json!({})).await;
    assert_eq!(sent.status, 200, "{:?}", sent.body);
    assert!(sent.body["resend_after"].as_i64().is_some());
    let mail = app.mail_to(email).await;
    assert_eq!(mail.len(), 1);
    assert!(mail[0]["body"]["text"].as_str().unwrap().contains("verification code"));
    assert!(mail[0]["body"]["html"].as_str().unwrap().contains("<p>"));
    let code = app.latest_code_for(email).await;
    let wrong = if code == "000000" { "111111" } else { "000000" };
    let refused = app.call("enroll/verify-email", json!({ "code": wrong })).await;
    assert_eq!(refused.status, 400);
    // No authenticator before the email is proven.
    assert_eq!(app.call("enroll/authenticator", json!({})).await.status, 400);
    let verified = app.call("enroll/verify-email", json!({ "code": code })).await;
    assert_eq!(verified.body["email_verified"], true, "{:?}", verified.body);
}

/// Authenticator setup: nothing is active until a valid code confirms it.
async fn shows_an_authenticator_secret_not_yet_active(app: &TestApp, user: &store::User) -> TotpSecret {
    let setup = app.call("enroll/authenticator", json!({})).await;
    assert_eq!(setup.status, 200);
    let uri = setup.body["otpauth_uri"].as_str().unwrap();
    assert!(uri.starts_with("otpauth://totp/MSP%20Dashboard:"));
    assert!(uri.contains("issuer=MSP%20Dashboard"));
    assert!(setup.body["qr_svg"].as_str().unwrap().contains("<svg"));
    let manual_key = setup.body["manual_key"].as_str().unwrap();
    assert_eq!(manual_key.split(' ').count(), 8, "grouped in fours: {manual_key}");
    let secret = TotpSecret::from_base32(manual_key).unwrap();
    assert_eq!(secret.expose_bytes().len(), 20);
    assert!(app.user(user).await.totp_secret.is_none(), "unconfirmed secret stored as active");
    secret
}

/// A malformed code is refused; a current one activates 2FA and signs the user in: answers the
/// recovery codes.
async fn activates_with_a_valid_code(app: &TestApp, secret: &TotpSecret) -> Vec<Value> {
    let bad = app.call("enroll/activate", json!({ "code": "12345" })).await;
    assert_eq!(bad.status, 400);
    let activated = app.call("enroll/activate", json!({ "code": code_now(secret, 0) })).await;
    assert_eq!(activated.status, 200, "{:?}", activated.body);
    let codes = activated.body["recovery_codes"].as_array().unwrap().clone();
    assert_eq!(codes.len(), 10);
    assert_eq!(activated.body["me"]["two_factor"], "Active");
    assert!(app.cookie("__Host-session").is_some());
    assert!(app.cookie("__Host-login").is_none());
    assert_eq!(app.devices().await.status, 200);
    codes
}

/// At rest: the secret is encrypted, the step of the confirming code is stored, the recovery
/// codes are hashes.
async fn keeps_the_secret_sealed_and_the_codes_hashed(
    app: &TestApp,
    user: &store::User,
    secret: &TotpSecret,
    codes: &[Value],
) {
    let stored = app.user(user).await;
    let sealed = stored.totp_secret.clone().unwrap();
    assert!(!sealed.contains(&secret.to_base32()) && !sealed.contains(&hex_of(secret.expose_bytes())));
    assert_eq!(stored.totp_last_step, Some(step_of(now())));
    assert_eq!(stored.recovery_codes_left, 10);
    let items = format!("{:?}", app.items().await);
    for code in codes {
        assert!(!items.contains(code.as_str().unwrap()), "a recovery code is stored in clear");
    }
}

/// A grey-tick user who activated 2FA, logged out and logs in again: the login waits for a
/// passcode. Their email, secret and recovery codes.
async fn back_at_the_passcode_step(app: &TestApp, local: &str) -> (String, TotpSecret, Vec<String>) {
    let (_, email) = grey_user(app, local).await;
    let (secret, codes) = app.log_in_and_activate(&email).await;
    app.logout().await;
    let login = app.login(&email, PASSWORD).await;
    assert_eq!(login.body, json!("PasscodeRequired"));
    (email, secret, codes)
}

fn hex_of(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[tokio::test]
async fn passcode_login_accepts_a_fresh_code_once_and_hints_at_the_clock() {
    let app = spawn_app().await;
    let (email, secret, _) = back_at_the_passcode_step(&app, "pass").await;
    assert!(app.cookie("__Host-session").is_none());
    let wrong = app.passcode("000000").await;
    let wrong = if wrong.status == 200 { app.passcode("000001").await } else { wrong };
    assert_eq!(wrong.status, 401);
    assert!(wrong.message().contains("time on your phone"), "{}", wrong.message());

    // The code used at activation is the current step's; the next step's code is newer.
    let fresh = code_now(&secret, 1);
    let ok = app.passcode(&fresh).await;
    assert_eq!(ok.status, 200, "{:?}", ok.body);
    assert_eq!(ok.body["me"]["email"], email.as_str());
    assert_eq!(ok.body["recovery_codes_left"], json!(null));
    assert_eq!(app.devices().await.status, 200);

    // The same code in a new login is a replay.
    app.logout().await;
    app.login(&email, PASSWORD).await;
    let replay = app.passcode(&fresh).await;
    assert_eq!(replay.status, 401);
    assert!(replay.message().contains("already used"), "{}", replay.message());
    // An older code too.
    assert_eq!(app.passcode(&code_now(&secret, 0)).await.status, 401);
    assert!(app.cookie("__Host-session").is_none());
}

#[tokio::test]
async fn a_recovery_code_logs_in_once_and_says_how_many_remain() {
    let app = spawn_app().await;
    let (email, _, codes) = back_at_the_passcode_step(&app, "lost").await;
    let sloppy = codes[3].to_lowercase();
    let ok = app.passcode(&sloppy).await;
    assert_eq!(ok.status, 200, "{:?}", ok.body);
    assert_eq!(ok.body["recovery_codes_left"], 9);
    let mail = app.mail_to(&email).await;
    assert!(mail.iter().any(|m| { m["subject"].as_str().unwrap().contains("recovery code was used") }));

    app.logout().await;
    app.login(&email, PASSWORD).await;
    let again = app.passcode(&codes[3]).await;
    assert_eq!(again.status, 401);
    assert!(again.message().contains("already used"), "{}", again.message());
    let other = app.passcode(&codes[4]).await;
    assert_eq!(other.status, 200);
    assert_eq!(other.body["recovery_codes_left"], 8);
}

#[tokio::test]
async fn regenerating_recovery_codes_replaces_the_whole_set() {
    let app = spawn_app().await;
    let (_, email) = grey_user(&app, "regen").await;
    let (secret, old) = app.log_in_and_activate(&email).await;
    // A session alone cannot replace them: it takes a current passcode, used once.
    assert_eq!(app.call("enroll/recovery-codes", json!({ "code": "" })).await.status, 400);
    let wrong = if code_now(&secret, 1) == "000000" { "111111" } else { "000000" };
    assert_eq!(app.call("enroll/recovery-codes", json!({ "code": wrong })).await.status, 400);
    let fresh = app.call("enroll/recovery-codes", json!({ "code": code_now(&secret, 1) })).await;
    assert_eq!(fresh.status, 200, "{:?}", fresh.body);
    let replayed = app.call("enroll/recovery-codes", json!({ "code": code_now(&secret, 1) })).await;
    assert_eq!(replayed.status, 400, "{:?}", replayed.body);
    let fresh: Vec<String> = serde_json::from_value(fresh.body).unwrap();
    assert_eq!(fresh.len(), 10);
    let mail = app.mail_to(&email).await;
    assert!(mail.iter().any(|m| m["subject"].as_str().unwrap().contains("recovery codes were replaced")));
    assert!(
        app.audit()
            .await
            .iter()
            .any(|(a, d)| a == "2fa.recovery_codes_regenerated" && d.contains("passcode"))
    );
    app.logout().await;
    app.login(&email, PASSWORD).await;
    assert_eq!(app.passcode(&old[0]).await.status, 401);
    assert_eq!(app.passcode(&fresh[0]).await.status, 200);
}

#[tokio::test]
async fn five_wrong_passcodes_end_the_login_and_lock_it() {
    let app = spawn_app().await;
    let (email, secret, _) = back_at_the_passcode_step(&app, "guess").await;
    let right = code_now(&secret, 1);
    let wrong: Vec<String> =
        (0..6).map(|i| format!("{:06}", (right.parse::<u32>().unwrap() + 1 + i) % 1_000_000)).collect();
    // Wrong passcodes count toward the same lockout as wrong passwords (the password step
    // counted one already): the lock comes before the fifth wrong code.
    let mut replies = Vec::new();
    for code in &wrong[..5] {
        let reply = app.passcode(code).await;
        let locked = reply.status == 429;
        replies.push(reply);
        if locked {
            break;
        }
    }
    let last = replies.last().unwrap();
    assert_eq!(last.status, 429, "{:?}", last.body);
    assert!(last.message().contains("locked until"));
    assert!(replies[..replies.len() - 1].iter().all(|r| r.status == 401));
    // The right code no longer helps, and the password step is locked too.
    assert_eq!(app.passcode(&right).await.status, 401);
    assert_eq!(app.login(&email, PASSWORD).await.status, 429);
}

#[tokio::test]
async fn email_codes_limit_tries_and_resends() {
    let app = spawn_app().await;
    let (_, email) = grey_user(&app, "mail").await;
    app.login(&email, PASSWORD).await;
    assert_eq!(app.call("enroll/send-code", json!({})).await.status, 200);
    let again = app.call("enroll/send-code", json!({})).await;
    assert_eq!(again.status, 400);
    assert!(again.message().contains("send another in"), "{}", again.message());
    assert_eq!(app.mail_to(&email).await.len(), 1);

    let code = app.latest_code_for(&email).await;
    let wrong = if code == "000000" { "111111" } else { "000000" };
    for _ in 0..5 {
        assert_eq!(app.call("enroll/verify-email", json!({ "code": wrong })).await.status, 400);
    }
    // After five wrong tries even the right code is refused until a new one is sent.
    let right = app.call("enroll/verify-email", json!({ "code": code })).await;
    assert_eq!(right.status, 400);
    assert!(right.message().contains("Too many"), "{}", right.message());
}

#[tokio::test]
async fn users_without_a_login_in_progress_cannot_touch_activation() {
    let app = spawn_app().await;
    for call in ["enroll/status", "enroll/send-code", "enroll/authenticator"] {
        assert_eq!(app.call(call, json!({})).await.status, 401, "{call}");
    }
    assert_eq!(app.call("enroll/recovery-codes", json!({ "code": "123456" })).await.status, 401);
    // A forged login cookie does nothing either.
    app.set_cookie("__Host-login", Some("b".repeat(64)));
    assert_eq!(app.call("enroll/send-code", json!({})).await.status, 401);
    assert_eq!(app.passcode("123456").await.status, 401);
}

#[tokio::test]
async fn a_signed_in_user_can_turn_on_2fa_themselves() {
    let app = spawn_app().await;
    let email = app.email("tech");
    let (_, codes) = app.log_in_and_activate(&email).await;
    assert_eq!(codes.len(), 10);
    let me = app.me().await;
    assert_eq!(me.body["two_factor"], "Active");
    app.logout().await;
    assert_eq!(app.login(&email, PASSWORD).await.body, json!("PasscodeRequired"));
}

/// Recovery codes are stored as keyed hashes (a table dump alone cannot be searched for them);
/// a set stored as plain SHA-256 before that still works until it is replaced.
#[tokio::test]
async fn recovery_codes_are_stored_keyed_and_older_plain_sets_still_work() {
    let app = spawn_app().await;
    let (user, email) = grey_user(&app, "keyed").await;
    let (_, codes) = app.log_in_and_activate(&email).await;
    let item = app
        .items()
        .await
        .into_iter()
        .find(|i| {
            i.get("sk") == Some(&aws_sdk_dynamodb::types::AttributeValue::S(format!("USER#{}", user.id)))
        })
        .unwrap();
    let Some(aws_sdk_dynamodb::types::AttributeValue::Ss(stored)) = item.get("recovery") else {
        panic!("no codes")
    };
    let plain = domain::secret::sha256_hex(&domain::recovery::normalise(&codes[0]).unwrap());
    assert!(!stored.contains(&plain), "stored as a plain hash");
    assert!(stored.iter().all(|h| h.starts_with("test1:")), "{stored:?}");

    // An older set, stored as plain SHA-256.
    let legacy = "ABCD-EFGH-JKMN";
    let legacy_hash = domain::secret::sha256_hex(&domain::recovery::normalise(legacy).unwrap());
    let legacy_set = aws_sdk_dynamodb::types::AttributeValue::Ss(vec![legacy_hash]);
    app.write_user_item(&user, "SET recovery = :v", Some(legacy_set)).await;
    app.logout().await;
    app.login(&email, PASSWORD).await;
    let used = app.passcode(legacy).await;
    assert_eq!(used.status, 200, "{:?}", used.body);
    assert_eq!(used.body["recovery_codes_left"], 0);
}
