//! The deployed path: only requests that came through CloudFront (with its origin secret) are
//! served, and the client address is CloudFront's viewer address, never another header.

use api::server::http::{ORIGIN_SECRET_HEADER, VIEWER_ADDRESS_HEADER};
use serde_json::json;

use crate::{ORIGIN, PASSWORD, spawn_app};

#[tokio::test]
async fn a_request_around_cloudfront_is_refused_even_with_a_forged_viewer_address() {
    let app = spawn_app().await;
    let before = app.items().await.len();
    let body = json!({ "email": app.email("tech"), "password": PASSWORD }).to_string();
    let forged = [(ORIGIN_SECRET_HEADER, ""), (VIEWER_ADDRESS_HEADER, "198.51.100.7:443")];
    let reply = app.call_with("auth/login", body, Some(ORIGIN), &forged).await;
    assert_eq!(reply.status, 403, "{:?}", reply.body);
    assert!(reply.set_cookies.is_empty());
    assert_eq!(app.items().await.len(), before, "nothing counted, nothing written");
}

#[tokio::test]
async fn a_wrong_origin_secret_is_refused() {
    let app = spawn_app().await;
    let body = json!({ "email": app.email("tech"), "password": PASSWORD }).to_string();
    for wrong in ["guess", "test-origin-secret-0123456789abcdeX", "test-origin-secret-0123456789abcdef0"] {
        let reply =
            app.call_with("auth/login", body.clone(), Some(ORIGIN), &[(ORIGIN_SECRET_HEADER, wrong)]).await;
        assert_eq!(reply.status, 403, "{wrong}: {:?}", reply.body);
    }
}

#[tokio::test]
async fn the_client_address_is_the_viewer_address_and_nothing_else() {
    let app = spawn_app().await;
    let email = app.email("tech");
    // The browser is elsewhere; headers it writes itself change nothing.
    app.connect_from("198.51.100.7");
    let spoofed =
        [("x-forwarded-for", "127.0.0.1"), ("x-real-ip", "127.0.0.1"), ("forwarded", "for=127.0.0.1")];
    let body = json!({ "email": &email, "password": PASSWORD }).to_string();
    let login = app.call_with("auth/login", body, Some(ORIGIN), &spoofed).await;
    assert!(login.asks_ip_verification(), "{:?}", login.body);
    let mail = app.mail_to(&email).await;
    assert!(mail.last().unwrap()["body"]["text"].as_str().unwrap().contains("198.51.100.7"));
}

#[tokio::test]
async fn an_ipv6_viewer_is_verified_for_its_64() {
    let app = spawn_app().await;
    let email = app.email("tech");
    let token = app.login_from_new_address(&email, "2001:db8:1:2:aaaa::5").await;
    let opened = app.verify_ip(&token).await;
    assert_eq!(opened.body, "2001:db8:1:2::/64", "{:?}", opened.body);
    // Another address in the same /64 is trusted; one in the next /64 is not.
    let same = app.browser();
    same.connect_from("2001:db8:1:2:bbbb::9");
    assert!(same.login(&email, PASSWORD).await.signed_in());
    let next = app.browser();
    next.connect_from("2001:db8:1:3::1");
    assert!(next.login(&email, PASSWORD).await.asks_ip_verification());
}
