//! Store-level races against the real DynamoDB-compatible server: one code, one use.

use domain::Role;
use store::{Challenge, Display, Purpose, Session};

use crate::{now, spawn_app};

/// Walks the enrollment item to a pending secret `sealed`, through the same writes the flow uses.
async fn pending_secret(store: &store::Store, user: &store::User) {
    store.save_email_code(user, "code-hash", now(), now()).await.unwrap();
    store.mark_email_verified(user, "code-hash", now()).await.unwrap();
    store.set_pending_secret(user, "sealed").await.unwrap();
}

#[tokio::test]
async fn parallel_uses_of_one_passcode_step_let_exactly_one_win() {
    let app = spawn_app().await;
    let user = app.add_user("race", Role::Technician).await;
    app.store.enable_two_factor(&user, &user.id, now()).await.unwrap();
    // Make the user active with step 100 accepted last.
    pending_secret(&app.store, &user).await;
    app.store.activate_two_factor(&user, "sealed", 100, vec!["h".into()], now()).await.unwrap();

    let challenge = |n: usize| Challenge {
        user_id: user.id.clone(),
        account_id: user.account_id.clone(),
        purpose: Purpose::Passcode,
        client_ip: "127.0.0.1".into(),
        expires_at: now().plus_seconds(600),
        failures: 0,
        totp_secret: Some(format!("sealed-{n}")),
        display: Display {
            name: "n".into(),
            email: "e@x.example".into(),
            role_code: "technician".into(),
            account_name: "a".into(),
        },
    };
    // Eight logins in progress each submit the same step 101 at once.
    for n in 0..8 {
        app.store.create_challenge(&format!("c{n}"), &challenge(n)).await.unwrap();
    }
    let attempts = (0..8).map(|n| {
        let store = app.store.clone();
        let c = challenge(n);
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
                "127.0.0.1",
                "race",
            );
            store
                .finish_passcode_login(&format!("c{n}"), &c, 101, 5, &format!("s{n}"), &session, &event)
                .await
        })
    });
    let results = futures::future::join_all(attempts).await;
    let wins = results.iter().filter(|r| matches!(r, Ok(Ok(())))).count();
    assert_eq!(wins, 1, "{results:?}");
    assert_eq!(app.user(&user).await.totp_last_step, Some(101));
    assert_eq!(app.item_count_with_prefix("SESSION#").await, 1);
}

#[tokio::test]
async fn parallel_uses_of_one_recovery_code_let_exactly_one_win() {
    let app = spawn_app().await;
    let user = app.add_user("race2", Role::Technician).await;
    pending_secret(&app.store, &user).await;
    app.store.activate_two_factor(&user, "sealed", 1, vec!["h1".into(), "h2".into()], now()).await.unwrap();
    let attempts = (0..8).map(|_| {
        let store = app.store.clone();
        let (a, u) = (user.account_id.clone(), user.id.clone());
        tokio::spawn(async move { store.use_recovery_code(&a, &u, "h1").await })
    });
    let results = futures::future::join_all(attempts).await;
    let wins: Vec<usize> = results.into_iter().filter_map(|r| r.unwrap().ok()).collect();
    assert_eq!(wins, [1]);
}
