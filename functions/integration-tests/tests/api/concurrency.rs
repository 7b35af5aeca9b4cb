//! Races against Amazon DynamoDB Local: many requests in flight at once, over HTTP through the
//! functions, each guarded by a condition that must let exactly one through. Each test names the
//! condition it proves; removing that condition makes it fail.

use domain::lockout::{KNOWN_SOURCES, PAIR, Source};
use domain::session::{Epochs, Reauth};
use domain::{Email, Role};
use futures::future::join_all;
use serde_json::{Value, json};
use store::{Activation, Challenge, CounterKey, FinishError, Greeting, Proof, Purpose, Session, Store, User};

use crate::{PASSWORD, Reply, TestApp, active_user, code_now, grey_user, now, spawn_app};

const RACERS: usize = 20;

/// Sends `path` with `body` from every browser at once.
async fn all_at_once(browsers: &[TestApp], path: &str, body: Value) -> Vec<Reply> {
    join_all(browsers.iter().map(|b| b.call(path, body.clone()))).await
}

fn statuses(replies: &[Reply]) -> Vec<u16> {
    replies.iter().map(|r| r.status).collect()
}

/// `RACERS` browsers, each at the passcode step of its own login of `user` (from its own address
/// in the verified range, so no address reaches its lockout limit).
async fn logins_at_the_passcode_step(app: &TestApp, user: &User) -> Vec<TestApp> {
    let mut browsers = Vec::new();
    for i in 0..RACERS {
        let browser = app.browser();
        browser.connect_from(&format!("127.0.0.{}", i + 2));
        let login = browser.login(user.email.as_str(), PASSWORD).await;
        assert_eq!(login.body, json!("PasscodeRequired"), "{:?}", login.body);
        browsers.push(browser);
    }
    browsers
}

async fn sessions_of(app: &TestApp, user: &User) -> usize {
    app.items()
        .await
        .iter()
        .filter(|i| matches!(i.get("pk"), Some(aws_sdk_dynamodb::types::AttributeValue::S(pk)) if pk.starts_with("SESSION#")))
        .filter(|i| matches!(i.get("user_id"), Some(aws_sdk_dynamodb::types::AttributeValue::S(id)) if *id == user.id))
        .count()
}

/// Guard: the user item's `totp_last_step < :step`, in the transaction that starts the session.
#[tokio::test]
async fn one_totp_code_sent_by_twenty_logins_at_once_starts_exactly_one_session() {
    let app = spawn_app().await;
    let (user, secret, _) = active_user(&app, "totp-race").await;
    let browsers = logins_at_the_passcode_step(&app, &user).await;
    let replies = all_at_once(&browsers, "auth/passcode", json!({ "code": code_now(&secret, 1) })).await;
    let ok = replies.iter().filter(|r| r.status == 200).count();
    assert_eq!(ok, 1, "{:?}", statuses(&replies));
    for loser in replies.iter().filter(|r| r.status != 200) {
        assert_eq!(loser.status, 401, "{:?}", loser.body);
        assert!(loser.message().contains("already used"), "{:?}", loser.body);
    }
    assert_eq!(sessions_of(&app, &user).await, 1);
}

/// Guard: `contains(recovery, :h)` with `DELETE recovery :code`, in the same transaction.
#[tokio::test]
async fn one_recovery_code_sent_by_twenty_logins_at_once_is_used_once() {
    let app = spawn_app().await;
    let (user, _, codes) = active_user(&app, "recovery-race").await;
    let browsers = logins_at_the_passcode_step(&app, &user).await;
    let replies = all_at_once(&browsers, "auth/passcode", json!({ "code": codes[0] })).await;
    assert_eq!(replies.iter().filter(|r| r.status == 200).count(), 1, "{:?}", statuses(&replies));
    assert!(replies.iter().all(|r| r.status == 200 || r.status == 401), "{:?}", statuses(&replies));
    assert_eq!(sessions_of(&app, &user).await, 1);
    assert_eq!(app.user(&user).await.recovery_codes_left, codes.len() - 1);
}

/// Guard: `code_hash = :h` when the email is marked verified (and the tries counted before).
#[tokio::test]
async fn one_email_code_sent_twenty_times_at_once_validates_once() {
    let app = spawn_app().await;
    let (_, email) = grey_user(&app, "email-race").await;
    assert_eq!(app.login(&email, PASSWORD).await.status, 200);
    assert_eq!(app.call("enroll/send-code", json!({})).await.status, 200);
    let code = app.latest_code_for(&email).await;
    // One browser, twenty submissions (a double click, many times over).
    let replies =
        join_all((0..RACERS).map(|_| app.call("enroll/verify-email", json!({ "code": code })))).await;
    assert_eq!(replies.iter().filter(|r| r.status == 200).count(), 1, "{:?}", statuses(&replies));
    assert!(replies.iter().all(|r| r.status == 200 || r.status == 400), "{:?}", statuses(&replies));
    assert_eq!(app.call("enroll/status", json!({})).await.body["email_verified"], true);
}

/// Guard: the link is deleted with `attribute_exists(pk)` in the transaction that trusts its range.
#[tokio::test]
async fn one_ip_link_opened_twenty_times_at_once_verifies_once() {
    let app = spawn_app().await;
    let email = app.email("tech");
    app.connect_from("127.0.88.1");
    let login = app.login(&email, PASSWORD).await;
    assert!(login.asks_ip_verification(), "{:?}", login.body);
    let token = app.latest_ip_link_token(&email).await;
    let opener = app.browser();
    let replies = join_all((0..RACERS).map(|_| opener.verify_ip(&token))).await;
    assert_eq!(replies.iter().filter(|r| r.status == 200).count(), 1, "{:?}", statuses(&replies));
    assert!(replies.iter().all(|r| r.status == 200 || r.status == 400), "{:?}", statuses(&replies));
    let verified =
        app.audit().await.iter().filter(|(action, _)| action == "ip_verification.verified").count();
    assert_eq!(verified, 1);
    assert!(app.user(&app.tech).await.verified_ranges.contains(&"127.0.88.0/24".to_owned()));
}

/// Guard: each failure is one conditional `ADD failures :one` (or a conditional new window).
#[tokio::test]
async fn fifty_failures_counted_at_once_are_each_counted_exactly_once() {
    let app = spawn_app().await;
    let counter = CounterKey::pair(&Email::parse(&app.email("tech")).unwrap(), "127.0.0.1");
    let at = now();
    let counted = join_all((0..50).map(|_| app.store.record_failure(&counter, &PAIR, at))).await;
    let mut seen: Vec<u32> = counted.into_iter().map(|c| c.unwrap().failures).collect();
    seen.sort_unstable();
    assert_eq!(seen, (1..=50).collect::<Vec<u32>>(), "every failure sees its own count");
    let stored = app.store.load_counters(&[counter]).await.unwrap();
    assert_eq!(stored[0].as_ref().unwrap().failures, 50);
}

/// Guard: each attempt is answered only once counted; those counted beyond the limit are refused
/// whatever their password, and a right password whose write finds the lock is refused too.
#[tokio::test]
async fn fifty_wrong_passwords_at_once_lock_and_the_right_one_does_not_slip_through() {
    let app = spawn_app().await;
    let email = app.email("tech");
    let locked = tokio::sync::Notify::new();
    let wrong = join_all((0..50).map(|_| async {
        let reply = app.login(&email, "wrong-password").await;
        if reply.status == 429 {
            locked.notify_one();
        }
        reply
    }));
    // The right password, sent while the burst is still in flight, once the lock is set.
    let right = async {
        locked.notified().await;
        app.browser().login(&email, PASSWORD).await
    };
    let (wrong, right) = tokio::join!(wrong, right);
    // Each is refused: wrong (401), locked (429), or, on a loaded machine, "try again" (503) when
    // its counter's write kept meeting the others' after the client's retries.
    assert!(wrong.iter().all(|r| [401, 429, 503].contains(&r.status)), "{:?}", statuses(&wrong));
    assert_eq!(right.status, 429, "{:?}", right.body);
    // Only attempts counted within both limits were answered and audited as wrong: at most five.
    // (Possibly none: under load the first five on the address's counter can all be counted
    // beyond the email's twenty.)
    let checked = app.audit().await.iter().filter(|(action, _)| action == "login.failure").count();
    assert!(checked <= PAIR.max_failures as usize, "{checked} passwords answered as wrong");
    let answered = wrong.iter().filter(|r| r.status == 401).count();
    assert!(answered <= PAIR.max_failures as usize, "{answered} answered 401");
    assert_eq!(app.login(&email, PASSWORD).await.status, 429);
    // This machine's range is verified for the tech: a known source.
    let counters = app.store.load_counters(&crate::counter_keys(&email, Source::Known)).await.unwrap();
    let pair = counters[0].as_ref().unwrap().failures;
    assert!((PAIR.max_failures..=51).contains(&pair), "{pair}");
    assert!(counters[1].as_ref().unwrap().failures >= KNOWN_SOURCES.max_failures.min(pair));
}

/// Guard: the write that ends an attempt well (here a login's next step) is refused while its
/// counter is locked, the lock set by other attempts after this one read the counters: a right
/// password checked during a burst of guesses gets no further.
#[tokio::test]
async fn a_next_step_written_after_the_lock_was_set_is_refused() {
    let app = spawn_app().await;
    let user = app.user(&app.tech).await;
    let counter = CounterKey::pair(&user.email, "127.0.0.1");
    let at = now();
    let settle = |clear| store::Settle { counters: vec![(counter.clone(), PAIR)], clear, now: at };
    for _ in 1..PAIR.max_failures {
        app.store.record_failure(&counter, &PAIR, at).await.unwrap();
    }
    // One short of the limit: written, and the counter stays unless asked to clear.
    app.store.create_challenge("before-lock", &challenge(&user), None, &settle(false)).await.unwrap();
    assert!(app.store.get_challenge("before-lock", at).await.unwrap().is_some());
    assert!(app.store.load_counters(std::slice::from_ref(&counter)).await.unwrap()[0].is_some());
    app.store.record_failure(&counter, &PAIR, at).await.unwrap();
    // Locked: nothing is written.
    let refused = app.store.create_challenge("after-lock", &challenge(&user), None, &settle(true)).await;
    assert!(matches!(refused, Err(store::StoreError::Locked)), "{refused:?}");
    assert!(app.store.get_challenge("after-lock", at).await.unwrap().is_none());
    assert_eq!(
        app.store.load_counters(std::slice::from_ref(&counter)).await.unwrap()[0].unwrap().failures,
        PAIR.max_failures
    );
    // Once the lock is over the same write goes through and clears the counter.
    let later = store::Settle { now: at.plus_seconds(PAIR.lock_seconds), ..settle(true) };
    app.store.create_challenge("after-lock", &challenge(&user), None, &later).await.unwrap();
    assert!(app.store.load_counters(&[counter]).await.unwrap()[0].is_none());
}

/// Two administrators of the tech's account, each signed in with 2FA in their own browser (so
/// switching account-wide 2FA on ends neither session).
async fn two_administrators(app: &TestApp) -> (TestApp, TestApp) {
    let (alice, _, _) = crate::admin_with_2fa(app, "alice").await;
    let (bob, _, _) = crate::admin_with_2fa(app, "bob").await;
    (alice, bob)
}

/// Guard: each administrator's change applies only from the state they saw, with its audit event
/// in the same transaction.
#[tokio::test]
async fn two_administrators_toggling_one_user_at_once_leave_a_consistent_state_and_audit() {
    let app = spawn_app().await;
    let (alice, bob) = two_administrators(&app).await;
    let act = |action: &str| json!({ "user_id": app.tech.id, "action": action });
    // Waves of both at once, so that later waves race from either state.
    let mut replies = Vec::new();
    for _ in 0..5 {
        let wave = (0..2).flat_map(|_| {
            [
                alice.call("accounts/user-action", act("EnableTwoFactor")),
                bob.call("accounts/user-action", act("DisableTwoFactor")),
            ]
        });
        replies.extend(join_all(wave).await);
    }
    assert!(replies.iter().all(|r| r.status == 200 || r.status == 400), "{:?}", statuses(&replies));
    let changes: Vec<String> = app
        .audit()
        .await
        .into_iter()
        .map(|(action, _)| action)
        .filter(|a| a == "2fa.enabled_by_admin" || a == "2fa.disabled_by_admin")
        .collect();
    assert_eq!(changes.len(), replies.iter().filter(|r| r.status == 200).count());
    // Every recorded change is a real change, so from "off" they alternate in commit order: as
    // many disables as enables, or one enable more, and that one decides the final state. (The
    // audit's own order is the requests' start, which need not be the commit order.)
    let enables = changes.iter().filter(|a| *a == "2fa.enabled_by_admin").count();
    let disables = changes.len() - enables;
    assert!(enables == disables || enables == disables + 1, "{changes:?}");
    let enabled = app.user(&app.tech).await.two_factor.enabled.is_some();
    assert_eq!(enabled, enables > disables, "the final state is the last change");
}

/// Guard: General Settings are saved in one write over the version the administrator read.
#[tokio::test]
async fn two_administrators_saving_settings_at_once_never_mix_them() {
    let app = spawn_app().await;
    let (alice, bob) = two_administrators(&app).await;
    let settings = |on: bool| json!({ "settings": { "account_wide_2fa": on, "remote_2fa_required_from": null, "ip_verification": !on } });
    // Waves of saves at once, so later waves race over a version earlier ones wrote.
    let mut replies = Vec::new();
    for _ in 0..5 {
        let wave = (0..2).flat_map(|_| {
            [
                alice.call("accounts/save-settings", settings(true)),
                bob.call("accounts/save-settings", settings(false)),
            ]
        });
        replies.extend(join_all(wave).await);
    }
    assert!(replies.iter().all(|r| r.status == 200 || r.status == 400), "{:?}", statuses(&replies));
    let account = app.store.get_account(&app.tech.account_id).await.unwrap().unwrap();
    assert_ne!(account.two_factor_required, account.ip_verification, "one administrator's settings, whole");
    let changes: Vec<String> =
        app.audit().await.into_iter().filter(|(a, _)| a == "settings.changed").map(|(_, d)| d).collect();
    // Each saved change is a real change from the state it saw: from "off", as many switches off
    // as on, or one more on, and that one decides the final state.
    let on = changes.iter().filter(|d| d.starts_with("account-wide 2FA on")).count();
    let off = changes.iter().filter(|d| d.starts_with("account-wide 2FA off")).count();
    assert_eq!(on + off, changes.len(), "{changes:?}");
    assert!(on == off || on == off + 1, "{changes:?}");
    assert_eq!(account.two_factor_required, on > off, "the final state is the last change");
}

/// What a racing user does to their own account, as audited.
fn own_event(account_id: &str, user_id: &str, action: domain::audit::AuditAction) -> store::AuditEvent {
    api::server::audit::event(account_id, user_id, user_id, action, "ip", "race")
}

/// Walks a user to active 2FA with secret `sealed`, last step 100 and recovery code hashes `h1`
/// and `h2`, through the same writes the activation flow uses.
async fn activate(store: &Store, user: &User) {
    store.enable_two_factor(user, &user.id, now()).await.unwrap();
    let user = &store.get_user(&user.account_id, &user.id).await.unwrap().unwrap();
    let binding = store::Binding { token_hash: "session-hash", expires_at: now().plus_seconds(600) };
    let saved = store.save_email_code(user, binding, "code-hash", now(), now(), 1).await.unwrap();
    assert_eq!(saved, store::CodeSave::Saved);
    assert_eq!(store.mark_email_verified(user, "code-hash", now()).await.unwrap(), store::CodeUse::Verified);
    let pending = store.set_pending_secret(user, binding, "sealed", now()).await.unwrap();
    assert_eq!(pending, store::PendingSecretSave::Saved);
    let audit = own_event(&user.account_id, &user.id, domain::audit::AuditAction::Activated);
    let activation = Activation {
        pending_secret: "sealed",
        step: 100,
        recovery_hashes: vec!["h1".into(), "h2".into()],
        audit: &audit,
    };
    let activated = store.activate_two_factor(user, activation, None).await.unwrap();
    assert_eq!(activated, store::Activate::Activated);
}

fn challenge(user: &User) -> Challenge {
    Challenge {
        user_id: user.id.clone(),
        account_id: user.account_id.clone(),
        purpose: Purpose::Passcode,
        client_ip: "127.0.0.1".into(),
        expires_at: now().plus_seconds(600),
        failures: 0,
        totp_secret: Some("sealed".into()),
        greeting: Greeting {
            name: "n".into(),
            email: "e@x.example".into(),
            role_code: "technician".into(),
            account_name: "a".into(),
        },
        range: None,
        link: None,
        links_sent: 0,
        verified: false,
        epochs: Epochs { user: 0, account: 0 },
        source: Source::Known,
    }
}

/// Eight logins in progress, each submitting `proof` at the same moment.
async fn race(store: &Store, user: &User, proof: Proof<'static>) -> Vec<Result<(), FinishError>> {
    for n in 0..8 {
        store
            .create_challenge(&format!("c{n}"), &challenge(user), None, &store::Settle::none(now()))
            .await
            .unwrap();
    }
    let attempts = (0..8).map(|n| {
        let (store, c) = (store.clone(), challenge(user));
        tokio::spawn(async move {
            let session = Session {
                user_id: c.user_id.clone(),
                account_id: c.account_id.clone(),
                expires_at: now().plus_seconds(60),
                two_factor: true,
                epochs: c.epochs,
                reauth: Reauth { at: now(), two_factor: true },
            };
            let event = own_event(&c.account_id, &c.user_id, domain::audit::AuditAction::LoginSuccess);
            store
                .finish_second_factor(store::SecondStep {
                    challenge_hash: &format!("c{n}"),
                    challenge: &c,
                    proof,
                    max_failures: 5,
                    settle: &store::Settle::none(now()),
                    session_hash: &format!("s{n}"),
                    session: &session,
                    audit: &event,
                })
                .await
        })
    });
    futures::future::join_all(attempts).await.into_iter().map(|r| r.unwrap()).collect()
}

#[tokio::test]
async fn a_code_for_a_replaced_secret_is_refused() {
    let app = spawn_app().await;
    let user = app.add_user("old-phone", Role::Technician).await;
    activate(&app.store, &user).await;
    // A challenge issued for secret "sealed" cannot finish once the secret is another one
    // (reset and activated again with a new phone).
    let stale = Proof::Passcode { step: 200, sealed_secret: "a-different-secret" };
    let results = race(&app.store, &user, stale).await;
    assert!(results.iter().all(|r| *r == Err(FinishError::Replayed)), "{results:?}");
}
