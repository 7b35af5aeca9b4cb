//! Rotating the TOTP key: `devkit reencrypt-totp-secrets` moves every stored secret to the new
//! key, can run again, and leaves alone a secret that changed while it ran.

use domain::Role;
use domain::crypto::Keyring;
use serde_json::json;

use crate::{PASSWORD, TOTP_KEYS, active_user, now, spawn_app};

const NEW_KEY: &str = "test2:2f2e2d2c2b2a292827262524232221201f1e1d1c1b1a19181716151413121110";

#[tokio::test]
async fn every_stored_secret_moves_to_the_new_key_and_a_second_run_finds_nothing_to_do() {
    let app = spawn_app().await;
    let (user, _, _) = active_user(&app, "sam").await;
    // And one activation in progress, with its pending secret.
    let grey = app.add_user("grey", Role::Technician).await;
    app.store.enable_two_factor(&grey, "admin-id", now()).await.unwrap();
    assert_eq!(app.login(&app.email("grey"), PASSWORD).await.status, 200);
    assert_eq!(app.validate_email(&app.email("grey")).await.status, 200);
    assert_eq!(app.call("enroll/authenticator", json!({})).await.status, 200);

    let old = Keyring::parse(TOTP_KEYS).unwrap();
    let rotated = Keyring::parse(&format!("{NEW_KEY},{TOTP_KEYS}")).unwrap();
    let before = app.store.sealed_secrets().await.unwrap();
    assert_eq!(before.len(), 2);
    let report = devkit::rotate::reencrypt(&app.store, &rotated).await.unwrap();
    assert_eq!((report.reencrypted, report.already_current, report.changed_meanwhile), (2, 0, 0));
    let after = app.store.sealed_secrets().await.unwrap();
    for (was, now) in before.iter().zip(&after) {
        assert!(now.value.starts_with("v2:test2:"), "still under the old key");
        assert_eq!(rotated.open(&now.value, &now.owner).unwrap(), old.open(&was.value, &was.owner).unwrap());
    }
    assert!(app.user(&user).await.totp_secret.unwrap().starts_with("v2:test2:"));

    let again = devkit::rotate::reencrypt(&app.store, &rotated).await.unwrap();
    assert_eq!((again.reencrypted, again.already_current), (0, 2));
}

#[tokio::test]
async fn a_secret_that_changed_meanwhile_is_left_as_it_is() {
    let app = spawn_app().await;
    let (user, _, _) = active_user(&app, "sam").await;
    let read = app.store.sealed_secrets().await.unwrap();
    // The user is reset and activates again while the rotation runs.
    let fresh = Keyring::parse(TOTP_KEYS).unwrap().seal(b"new phone", &user.id);
    assert_eq!(app.store.reseal(&read[0], &fresh).await, Ok(store::Reseal::Resealed));
    let rotated = Keyring::parse(&format!("{NEW_KEY},{TOTP_KEYS}")).unwrap();
    let resealed = rotated.reseal(&read[0].value, &read[0].owner).unwrap();
    assert_eq!(app.store.reseal(&read[0], &resealed).await, Ok(store::Reseal::ChangedMeanwhile));
    assert_eq!(app.user(&user).await.totp_secret.as_deref(), Some(fresh.as_str()));
}
