//! Store-level races against the real DynamoDB-compatible server: one code, one use.

use domain::Role;
use store::{Challenge, Display, FinishError, Proof, Purpose, Session, Store, User};

use crate::{now, spawn_app};

/// Walks a user to active 2FA with secret `sealed`, last step 100 and recovery code hash `h1`,
/// through the same writes the activation flow uses.
async fn activate(store: &Store, user: &User) {
    store.enable_two_factor(user, &user.id, now()).await.unwrap();
    store.save_email_code(user, "code-hash", now(), now(), 1).await.unwrap();
    store.mark_email_verified(user, "code-hash", now()).await.unwrap();
    store.set_pending_secret(user, "sealed").await.unwrap();
    store.activate_two_factor(user, "sealed", 100, vec!["h1".into(), "h2".into()], now()).await.unwrap();
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
        display: Display {
            name: "n".into(),
            email: "e@x.example".into(),
            role_code: "technician".into(),
            account_name: "a".into(),
        },
        range: None,
    }
}

/// Eight logins in progress, each submitting `proof` at the same moment.
async fn race(store: &Store, user: &User, proof: Proof<'static>) -> Vec<Result<(), FinishError>> {
    for n in 0..8 {
        store.create_challenge(&format!("c{n}"), &challenge(user)).await.unwrap();
    }
    let attempts = (0..8).map(|n| {
        let (store, c) = (store.clone(), challenge(user));
        tokio::spawn(async move {
            let session = Session {
                user_id: c.user_id.clone(),
                account_id: c.account_id.clone(),
                expires_at: now().plus_seconds(60),
                two_factor: true,
            };
            let event = api::server::audit::event(
                &c.account_id,
                &c.user_id,
                &c.user_id,
                "login.success",
                "ip",
                "race",
            );
            store
                .finish_second_factor(&format!("c{n}"), &c, proof, 5, &[], &format!("s{n}"), &session, &event)
                .await
        })
    });
    futures::future::join_all(attempts).await.into_iter().map(|r| r.unwrap()).collect()
}

#[tokio::test]
async fn parallel_uses_of_one_passcode_step_let_exactly_one_win() {
    let app = spawn_app().await;
    let user = app.add_user("race", Role::Technician).await;
    activate(&app.store, &user).await;
    let results = race(&app.store, &user, Proof::Passcode { step: 101, sealed_secret: "sealed" }).await;
    assert_eq!(results.iter().filter(|r| r.is_ok()).count(), 1, "{results:?}");
    assert!(results.iter().all(|r| matches!(r, Ok(()) | Err(FinishError::Replayed))));
    assert_eq!(app.user(&user).await.totp_last_step, Some(101));
    assert_eq!(app.item_count_with_prefix("SESSION#").await, 1);
}

#[tokio::test]
async fn parallel_uses_of_one_recovery_code_let_exactly_one_win() {
    let app = spawn_app().await;
    let user = app.add_user("race2", Role::Technician).await;
    activate(&app.store, &user).await;
    let results = race(&app.store, &user, Proof::RecoveryCode { hash: "h1" }).await;
    assert_eq!(results.iter().filter(|r| r.is_ok()).count(), 1, "{results:?}");
    assert_eq!(app.user(&user).await.recovery_codes_left, 1);
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
