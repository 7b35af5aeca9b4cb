//! The `auth` function over HTTP, against the local DynamoDB-compatible server
//! (`AWS_ENDPOINT_URL_DYNAMODB`, started by `scripts/test`). Each test gets its own table and its
//! own port.

use std::net::SocketAddr;

use aws_sdk_dynamodb::types::AttributeValue;
use domain::password::hash_password;
use domain::secret::sha256_hex;
use domain::{Email, Role, UnixTime};
use serde_json::{json, Value};
use store::{Device, NewUser, Session, Store, User};

const ORIGIN: &str = "http://dashboard.test";
const PASSWORD: &str = "Correct-Horse-9";

struct TestApp {
    base: String,
    store: Store,
    http: reqwest::Client,
    user: User,
    other_account_user: User,
    /// The session cookie the server last set (`name=value`), sent with every call.
    cookie: std::sync::Mutex<Option<String>>,
}

struct Reply {
    status: u16,
    body: Value,
    set_cookie: Option<String>,
}

impl TestApp {
    async fn call_with(&self, name: &str, body: String, origin: Option<&str>, extra: &[(&str, &str)]) -> Reply {
        let mut req = self
            .http
            .post(format!("{}/api/auth/{name}", self.base))
            .header("content-type", "application/json")
            .body(body);
        if let Some(origin) = origin {
            req = req.header("origin", origin);
        }
        if let Some(cookie) = self.cookie.lock().unwrap().clone() {
            req = req.header("cookie", cookie);
        }
        for (k, v) in extra {
            req = req.header(*k, *v);
        }
        let res = req.send().await.expect("request sent");
        let status = res.status().as_u16();
        let set_cookie =
            res.headers().get("set-cookie").map(|v| v.to_str().unwrap().to_owned());
        if let Some(sc) = &set_cookie {
            let pair = sc.split(';').next().unwrap().to_owned();
            *self.cookie.lock().unwrap() = (!pair.ends_with('=')).then_some(pair);
        }
        let text = res.text().await.unwrap();
        let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
        Reply { status, body, set_cookie }
    }

    async fn call(&self, name: &str, body: Value) -> Reply {
        self.call_with(name, body.to_string(), Some(ORIGIN), &[]).await
    }

    async fn login(&self, email: &str, password: &str) -> Reply {
        self.call("login", json!({ "email": email, "password": password })).await
    }

    async fn me(&self) -> Reply {
        self.call("me", json!({})).await
    }

    async fn logout(&self) -> Reply {
        self.call("logout", json!({})).await
    }

    async fn devices(&self) -> Reply {
        self.call("devices", json!({})).await
    }

    fn forget_cookie(&self) {
        *self.cookie.lock().unwrap() = None;
    }

    /// Every item in this test's table.
    async fn items(&self) -> Vec<std::collections::HashMap<String, AttributeValue>> {
        let out = self.store.client().scan().table_name(self.store.table()).send().await.unwrap();
        out.items.unwrap_or_default()
    }

    async fn item_count_with_prefix(&self, prefix: &str) -> usize {
        self.items()
            .await
            .iter()
            .filter(|i| matches!(i.get("pk"), Some(AttributeValue::S(pk)) if pk.starts_with(prefix)))
            .count()
    }
}

async fn add_user(store: &Store, account_id: &str, email: &str, role: Role) -> User {
    store
        .create_user(NewUser {
            account_id: account_id.to_owned(),
            email: Email::parse(email).unwrap(),
            name: format!("User {email}"),
            role,
            password_hash: hash_password(PASSWORD),
        })
        .await
        .unwrap()
}

/// Starts the function's router on a free port against a fresh table with two accounts.
async fn spawn_app() -> TestApp {
    assert!(
        std::env::var_os("AWS_ENDPOINT_URL_DYNAMODB").is_some(),
        "AWS_ENDPOINT_URL_DYNAMODB must point at the local DynamoDB server: run ./scripts/test"
    );
    let table = format!("test-{}", uuid_like());
    let store = Store::from_env(table).await;
    let template = std::fs::read_to_string(devkit::template_path()).unwrap();
    devkit::table::create_table(&store, &template).await.unwrap();

    let account = store.create_account("Test MSP").await.unwrap();
    let user = add_user(&store, &account.id, "tech@test.example", Role::Technician).await;
    store
        .put_device(&Device {
            id: "d1".into(),
            account_id: account.id.clone(),
            name: "FRONTDESK-PC01".into(),
            customer: "Harbor Dental".into(),
            os: "Windows 11".into(),
        })
        .await
        .unwrap();
    let other = store.create_account("Other MSP").await.unwrap();
    let other_account_user = add_user(&store, &other.id, "tech@other.example", Role::Technician).await;
    store
        .put_device(&Device {
            id: "d2".into(),
            account_id: other.id.clone(),
            name: "OTHER-SECRET-PC".into(),
            customer: "Someone else".into(),
            os: "Windows 11".into(),
        })
        .await
        .unwrap();

    let ctx = api::server::Ctx {
        store: store.clone(),
        config: api::server::Config { table_name: store.table().to_owned(), app_origin: ORIGIN.into() },
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let app = auth::router(ctx).into_make_service_with_connect_info::<SocketAddr>();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    TestApp {
        base: format!("http://{addr}"),
        store,
        http: reqwest::Client::new(),
        user,
        other_account_user,
        cookie: Default::default(),
    }
}

async fn assert_signed_out(app: &TestApp) {
    let reply = app.me().await;
    assert_eq!((reply.status, reply.body), (200, Value::Null));
}

fn uuid_like() -> String {
    use std::time::{SystemTime, UNIX_EPOCH};
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let nanos = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_nanos();
    format!("{nanos}-{}-{}", std::process::id(), NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed))
}

#[tokio::test]
async fn login_sets_a_strict_session_cookie_and_stores_only_its_hash() {
    let app = spawn_app().await;
    let reply = app.login("Tech@Test.example ", PASSWORD).await;
    assert_eq!(reply.status, 200, "{:?}", reply.body);
    assert_eq!(reply.body["SignedIn"]["email"], "tech@test.example");
    assert_eq!(reply.body["SignedIn"]["role"], "Technician");
    assert_eq!(reply.body["SignedIn"]["account_name"], "Test MSP");

    let cookie = reply.set_cookie.unwrap();
    for attr in ["HttpOnly", "Secure", "SameSite=Strict", "Path=/"] {
        assert!(cookie.contains(attr), "cookie lacks {attr}: {cookie}");
    }
    let token = cookie.split(';').next().unwrap().split_once('=').unwrap().1.to_owned();
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
    assert_eq!(me.body["name"], "User tech@test.example");
}

#[tokio::test]
async fn wrong_password_and_unknown_email_get_the_same_answer() {
    let app = spawn_app().await;
    let wrong = app.login("tech@test.example", "not-the-password").await;
    let unknown = app.login("nobody@test.example", "not-the-password").await;
    assert_eq!(wrong.status, 401);
    assert_eq!(unknown.status, 401);
    assert_eq!(wrong.body, unknown.body);
    assert!(wrong.set_cookie.is_none());
    assert_signed_out(&app).await;
    assert_eq!(app.item_count_with_prefix("SESSION#").await, 0);
}

#[tokio::test]
async fn five_failures_lock_the_login_even_with_the_right_password_then() {
    let app = spawn_app().await;
    for i in 0..4 {
        let reply = app.login("tech@test.example", "wrong").await;
        assert_eq!(reply.status, 401, "attempt {i}");
    }
    let fifth = app.login("tech@test.example", "wrong").await;
    assert_eq!(fifth.status, 429, "{:?}", fifth.body);
    assert!(fifth.body["message"].as_str().unwrap().contains("locked until"));
    assert!(fifth.body["until"].as_i64().unwrap() > 0);

    let right = app.login("tech@test.example", PASSWORD).await;
    assert_eq!(right.status, 429);
    assert!(right.set_cookie.is_none());
    // Another user is not affected.
    let other = app.login("tech@other.example", PASSWORD).await;
    assert_eq!(other.status, 200);
}

#[tokio::test]
async fn concurrent_failures_are_all_counted() {
    let app = spawn_app().await;
    let attempts = (0..5).map(|_| app.login("tech@test.example", "wrong"));
    let replies = futures::future::join_all(attempts).await;
    assert!(replies.iter().all(|r| r.status == 401 || r.status == 429));
    let next = app.login("tech@test.example", PASSWORD).await;
    assert_eq!(next.status, 429, "five parallel failures must lock: {:?}", next.body);
}

#[tokio::test]
async fn a_forged_forwarded_for_header_does_not_escape_the_lockout() {
    let app = spawn_app().await;
    for i in 0..5 {
        let ip = format!("203.0.113.{i}");
        let body = json!({ "email": "tech@test.example", "password": "wrong" }).to_string();
        app.call_with("login", body, Some(ORIGIN), &[("x-forwarded-for", &ip)]).await;
    }
    let right = app.login("tech@test.example", PASSWORD).await;
    assert_eq!(right.status, 429);
}

#[tokio::test]
async fn a_successful_login_clears_earlier_failures() {
    let app = spawn_app().await;
    for _ in 0..4 {
        app.login("tech@test.example", "wrong").await;
    }
    assert_eq!(app.login("tech@test.example", PASSWORD).await.status, 200);
    assert_eq!(app.item_count_with_prefix("LOCKOUT#").await, 0);
    for _ in 0..4 {
        assert_eq!(app.login("tech@test.example", "wrong").await.status, 401);
    }
}

#[tokio::test]
async fn bad_input_gets_a_clear_400_and_changes_nothing() {
    let app = spawn_app().await;
    let before = app.items().await.len();
    let cases: Vec<(&str, String)> = vec![
        ("malformed json", "{\"email\": ".into()),
        ("missing field", json!({ "email": "tech@test.example" }).to_string()),
        ("wrong type", json!({ "email": 42, "password": true }).to_string()),
        ("not an email", json!({ "email": "tech", "password": "x" }).to_string()),
        ("empty password", json!({ "email": "tech@test.example", "password": "" }).to_string()),
        ("oversized", json!({ "email": "tech@test.example", "password": "x".repeat(20_000) }).to_string()),
        ("long password", json!({ "email": "tech@test.example", "password": "x".repeat(300) }).to_string()),
    ];
    for (name, body) in cases {
        let reply = app.call_with("login", body, Some(ORIGIN), &[]).await;
        assert_eq!(reply.status, 400, "{name}: {:?}", reply.body);
        assert_eq!(reply.body["kind"], "BadRequest", "{name}");
        let message = reply.body["message"].as_str().unwrap_or_default();
        assert!(!message.is_empty(), "{name} has no message");
    }
    assert_eq!(app.items().await.len(), before, "bad input changed the table");
    let unknown = app.call("no-such-call", json!({})).await;
    assert_eq!(unknown.status, 400);
}

#[tokio::test]
async fn calls_from_another_origin_are_refused_and_change_nothing() {
    let app = spawn_app().await;
    let body = json!({ "email": "tech@test.example", "password": PASSWORD }).to_string();
    for origin in [None, Some("http://evil.test")] {
        let reply = app.call_with("login", body.clone(), origin, &[]).await;
        assert_eq!(reply.status, 403, "{origin:?}");
        assert!(reply.set_cookie.is_none());
    }
    assert_eq!(app.item_count_with_prefix("SESSION#").await, 0);
}

#[tokio::test]
async fn logout_ends_the_session_on_the_server() {
    let app = spawn_app().await;
    app.login("tech@test.example", PASSWORD).await;
    let stolen = app.cookie.lock().unwrap().clone();
    let reply = app.logout().await;
    assert_eq!(reply.status, 200);
    assert!(reply.set_cookie.unwrap().contains("Max-Age=0"));
    assert_eq!(app.item_count_with_prefix("SESSION#").await, 0);
    // Replaying the old cookie does not work.
    *app.cookie.lock().unwrap() = stolen;
    assert_signed_out(&app).await;
}

#[tokio::test]
async fn devices_need_a_session_and_show_only_the_users_account() {
    let app = spawn_app().await;
    assert_eq!(app.devices().await.status, 401);
    app.login("tech@test.example", PASSWORD).await;
    let reply = app.devices().await;
    assert_eq!(reply.status, 200);
    let names: Vec<&str> =
        reply.body.as_array().unwrap().iter().map(|d| d["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["FRONTDESK-PC01"]);
    app.forget_cookie();
    app.login("tech@other.example", PASSWORD).await;
    let reply = app.devices().await;
    let names: Vec<&str> =
        reply.body.as_array().unwrap().iter().map(|d| d["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["OTHER-SECRET-PC"]);
    let _ = &app.other_account_user;
}

#[tokio::test]
async fn an_expired_or_forged_session_is_refused() {
    let app = spawn_app().await;
    let token = domain::secret::SessionToken::generate();
    app.store
        .create_session(
            &token.hash(),
            &Session {
                user_id: app.user.id.clone(),
                account_id: app.user.account_id.clone(),
                expires_at: UnixTime(1_000),
            },
        )
        .await
        .unwrap();
    *app.cookie.lock().unwrap() = Some(format!("__Host-session={}", token.expose()));
    assert_signed_out(&app).await;
    *app.cookie.lock().unwrap() = Some(format!("__Host-session={}", "a".repeat(64)));
    assert_signed_out(&app).await;
    *app.cookie.lock().unwrap() = Some("__Host-session=garbage".into());
    assert_signed_out(&app).await;
}
