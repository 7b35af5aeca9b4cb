//! The functions over HTTP against the local DynamoDB-compatible server and the local SES endpoint
//! (`AWS_ENDPOINT_URL_DYNAMODB`, `AWS_ENDPOINT_URL_SES`, started by `scripts/test`). Every test
//! gets its own table, its own email domain and its own ports.

mod accounts;
mod activation;
mod budget;
mod cloudfront;
mod concurrency;
mod faults;
mod infra;
mod ipverify;
mod login;
mod remote;
mod rotation;
mod security;

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use api::server::http::{ORIGIN_SECRET_HEADER, VIEWER_ADDRESS_HEADER};
use aws_sdk_dynamodb::types::AttributeValue;
use domain::password::hash_password;
use domain::totp::{TotpSecret, step_of};
use domain::{Email, Role, UnixTime};
use serde_json::{Value, json};
use store::{Device, NewUser, Store, User};

pub const ORIGIN: &str = "http://dashboard.test";
pub const PASSWORD: &str = "Correct-Horse-9";
/// What this test system's CloudFront adds to every request.
pub const ORIGIN_SECRET: &str = "test-origin-secret-0123456789abcdef";
pub const TOTP_KEYS: &str = "test1:000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";

pub struct TestApp {
    /// API group (`auth`, `enroll`, `remote`, `accounts`) to the base URL of the function serving it.
    bases: BTreeMap<&'static str, String>,
    /// Direct to DynamoDB: what the test sets up and checks, never faulted.
    pub store: Store,
    /// Between the functions and DynamoDB Local / the SES endpoint: faults are injected here.
    pub dynamodb: Arc<aws_proxy::Proxy>,
    pub ses: Arc<aws_proxy::Proxy>,
    http: reqwest::Client,
    /// The browser's address as CloudFront reports it (`connect_from` changes it).
    viewer_ip: Mutex<String>,
    /// This test's email domain, so mail in the shared SES store is told apart.
    pub domain: String,
    pub tech: User,
    pub other_account_user: User,
    /// Cookies the server set (name to value), sent with every call like a browser would.
    cookies: Mutex<BTreeMap<String, String>>,
}

pub struct Reply {
    pub status: u16,
    pub body: Value,
    pub set_cookies: Vec<String>,
}

impl Reply {
    pub fn message(&self) -> &str {
        self.body["message"].as_str().unwrap_or_default()
    }

    /// A login answered "signed in", without a further step.
    pub fn signed_in(&self) -> bool {
        self.body.get("SignedIn").is_some()
    }

    /// A login answered that its address must be verified by email first.
    pub fn asks_ip_verification(&self) -> bool {
        self.body.get("IpVerificationRequired").is_some()
    }
}

impl TestApp {
    /// POSTs to `/api/<group>/<name>` with extra headers, as the browser would.
    pub async fn call_with(
        &self,
        path: &str,
        body: String,
        origin: Option<&str>,
        extra: &[(&str, &str)],
    ) -> Reply {
        let group = path.split('/').next().unwrap();
        let base = &self.bases[group];
        // As CloudFront forwards it: its origin secret and the viewer's address, unless the test
        // sends its own (an empty value leaves the header out).
        let viewer = format!("{}:50123", self.viewer_ip.lock().unwrap());
        let mut headers: BTreeMap<&str, &str> =
            BTreeMap::from([(ORIGIN_SECRET_HEADER, ORIGIN_SECRET), (VIEWER_ADDRESS_HEADER, viewer.as_str())]);
        headers.extend(extra.iter().copied());
        let mut req = self
            .http
            .post(format!("{base}/api/{path}"))
            .header("content-type", "application/json")
            .body(body);
        if let Some(origin) = origin {
            req = req.header("origin", origin);
        }
        let cookie_header = self
            .cookies
            .lock()
            .unwrap()
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ");
        if !cookie_header.is_empty() {
            req = req.header("cookie", cookie_header);
        }
        for (k, v) in headers.into_iter().filter(|(_, v)| !v.is_empty()) {
            req = req.header(k, v);
        }
        let res = req.send().await.expect("request sent");
        let status = res.status().as_u16();
        let set_cookies: Vec<String> =
            res.headers().get_all("set-cookie").iter().map(|v| v.to_str().unwrap().to_owned()).collect();
        for sc in &set_cookies {
            let (name, value) = sc.split(';').next().unwrap().split_once('=').unwrap();
            let mut jar = self.cookies.lock().unwrap();
            if value.is_empty() || sc.contains("Max-Age=0") {
                jar.remove(name);
            } else {
                jar.insert(name.to_owned(), value.to_owned());
            }
        }
        let text = res.text().await.unwrap();
        let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
        Reply { status, body, set_cookies }
    }

    pub async fn call(&self, path: &str, body: Value) -> Reply {
        self.call_with(path, body.to_string(), Some(ORIGIN), &[]).await
    }

    pub async fn login(&self, email: &str, password: &str) -> Reply {
        self.call("auth/login", json!({ "email": email, "password": password })).await
    }

    /// Logs `email` in from `ip`, an address it has not been verified from, and answers the token
    /// of the link the IP-verification email carries.
    pub async fn login_from_new_address(&self, email: &str, ip: &str) -> String {
        self.connect_from(ip);
        let login = self.login(email, PASSWORD).await;
        assert!(login.asks_ip_verification(), "{:?}", login.body);
        self.latest_ip_link_token(email).await
    }

    /// Opens the IP-verification link with `token`.
    pub async fn verify_ip(&self, token: &str) -> Reply {
        self.call("auth/verify-ip", json!({ "token": token })).await
    }

    pub async fn passcode(&self, code: &str) -> Reply {
        self.call("auth/passcode", json!({ "code": code })).await
    }

    pub async fn me(&self) -> Reply {
        self.call("auth/me", json!({})).await
    }

    pub async fn logout(&self) -> Reply {
        self.call("auth/logout", json!({})).await
    }

    pub async fn devices(&self) -> Reply {
        self.call("remote/devices", json!({})).await
    }

    pub async fn start_remote(&self, device_id: &str, kind: &str, defer: bool) -> Reply {
        self.call("remote/start", json!({ "device_id": device_id, "kind": kind, "defer": defer })).await
    }

    /// Sends the following calls from `ip` (IPv4 or IPv6), as CloudFront would report a browser
    /// on another network.
    pub fn connect_from(&self, ip: &str) {
        *self.viewer_ip.lock().unwrap() = ip.parse::<std::net::IpAddr>().unwrap().to_string();
    }

    /// Another browser on the same system: same functions, store and users, its own cookies.
    pub fn browser(&self) -> TestApp {
        TestApp {
            bases: self.bases.clone(),
            store: self.store.clone(),
            dynamodb: self.dynamodb.clone(),
            ses: self.ses.clone(),
            http: reqwest::Client::new(),
            viewer_ip: Mutex::new("127.0.0.1".into()),
            domain: self.domain.clone(),
            tech: self.tech.clone(),
            other_account_user: self.other_account_user.clone(),
            cookies: Default::default(),
        }
    }

    pub fn cookie(&self, name: &str) -> Option<String> {
        self.cookies.lock().unwrap().get(name).cloned()
    }

    pub fn set_cookie(&self, name: &str, value: Option<String>) {
        let mut jar = self.cookies.lock().unwrap();
        match value {
            Some(v) => jar.insert(name.to_owned(), v),
            None => jar.remove(name),
        };
    }

    pub fn forget_cookies(&self) {
        self.cookies.lock().unwrap().clear();
    }

    /// `local@<this test's domain>`.
    pub fn email(&self, local: &str) -> String {
        format!("{local}@{}", self.domain)
    }

    pub async fn add_user(&self, local: &str, role: Role) -> User {
        add_user(&self.store, &self.tech.account_id, &self.email(local), role).await
    }

    /// Every item in this test's table.
    pub async fn items(&self) -> Vec<std::collections::HashMap<String, AttributeValue>> {
        let out = self.store.client().scan().table_name(self.store.table()).send().await.unwrap();
        out.items.unwrap_or_default()
    }

    /// As if a minute had passed since the waiting login's last email (its resend cool-down).
    pub async fn a_minute_later(&self) {
        self.set_long_ago("__Host-login", "CHALLENGE", "last_sent").await;
    }

    /// Sets the time `attribute` of the item behind this browser's `cookie` (`kind`: `SESSION` or
    /// `CHALLENGE`) to long ago.
    pub async fn set_long_ago(&self, cookie: &str, kind: &str, attribute: &str) {
        let value = self.cookie(cookie).unwrap();
        let token = domain::secret::BearerToken::parse(value.split('.').next().unwrap()).unwrap();
        let key = (format!("{kind}#{}", token.hash()), kind.to_owned());
        let expression = format!("SET {attribute} = :v");
        self.write_item(key, &expression, Some(AttributeValue::N("1".into()))).await;
    }

    /// Writes `user`'s item directly, as older code or a hand edit would have left it:
    /// `expression` with its value `:v`, where it has one.
    pub async fn write_user_item(&self, user: &User, expression: &str, value: Option<AttributeValue>) {
        let key = (format!("ACCOUNT#{}", user.account_id), format!("USER#{}", user.id));
        self.write_item(key, expression, value).await;
    }

    /// One update of the item at `(pk, sk)`, straight to the table.
    async fn write_item(&self, (pk, sk): (String, String), expression: &str, value: Option<AttributeValue>) {
        self.store
            .client()
            .update_item()
            .table_name(self.store.table())
            .key("pk", AttributeValue::S(pk))
            .key("sk", AttributeValue::S(sk))
            .update_expression(expression)
            .set_expression_attribute_values(value.map(|v| [(":v".to_owned(), v)].into()))
            .send()
            .await
            .unwrap();
    }

    /// This test's audit events (action, detail), oldest first.
    pub async fn audit(&self) -> Vec<(String, String)> {
        let mut events: Vec<(String, String, String)> = self
            .items()
            .await
            .iter()
            .filter(|i| matches!(i.get("pk"), Some(AttributeValue::S(pk)) if pk.ends_with("#AUDIT")))
            .map(|i| {
                let text = |name: &str| match i.get(name) {
                    Some(AttributeValue::S(v)) => v.clone(),
                    _ => String::new(),
                };
                (text("sk"), text("action"), text("detail"))
            })
            .collect();
        events.sort();
        events.into_iter().map(|(_, action, detail)| (action, detail)).collect()
    }

    pub async fn item_count_with_prefix(&self, prefix: &str) -> usize {
        self.items()
            .await
            .iter()
            .filter(|i| matches!(i.get("pk"), Some(AttributeValue::S(pk)) if pk.starts_with(prefix)))
            .count()
    }

    pub async fn user(&self, user: &User) -> User {
        self.store.get_user(&user.account_id, &user.id).await.unwrap().unwrap()
    }

    /// Messages the local SES endpoint holds for `to`, oldest first.
    pub async fn mail_to(&self, to: &str) -> Vec<Value> {
        let ses = std::env::var("AWS_ENDPOINT_URL_SES").expect("AWS_ENDPOINT_URL_SES");
        let text = reqwest::get(format!("{ses}/store")).await.unwrap().text().await.unwrap();
        let store: Value = serde_json::from_str(&text).unwrap();
        store["emails"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|m| m["destination"]["to"].to_string().contains(to))
            .cloned()
            .collect()
    }

    /// The link in the newest IP-verification email to `to`: its token.
    pub async fn latest_ip_link_token(&self, to: &str) -> String {
        let mail = self.mail_to(to).await;
        let text = mail
            .iter()
            .rev()
            .find(|m| m["subject"].as_str().unwrap().contains("new location"))
            .expect("an IP verification email")["body"]["text"]
            .as_str()
            .unwrap()
            .to_owned();
        let at = text.find("verify-ip=").unwrap() + "verify-ip=".len();
        text[at..at + 64].to_owned()
    }

    /// The 6-digit code in the newest verification email to `to`.
    pub async fn latest_code_for(&self, to: &str) -> String {
        let mail = self.mail_to(to).await;
        let subject = mail.last().expect("a verification email")["subject"].as_str().unwrap().to_owned();
        subject.rsplit(' ').next().unwrap().to_owned()
    }

    /// Sends the email code to `email`, the user currently logging in, and enters it: answers
    /// the reply to the code.
    pub async fn validate_email(&self, email: &str) -> Reply {
        assert_eq!(self.call("enroll/send-code", json!({})).await.status, 200);
        let code = self.latest_code_for(email).await;
        self.call("enroll/verify-email", json!({ "code": code })).await
    }

    /// Another browser, in which `email` logs in and validates their email address (the first
    /// step of activation).
    pub async fn browser_with_email_validated(&self, email: &str) -> TestApp {
        let browser = self.browser();
        assert_eq!(browser.login(email, PASSWORD).await.status, 200);
        let verified = browser.validate_email(email).await;
        assert_eq!(verified.status, 200, "{:?}", verified.body);
        browser
    }

    /// Logs `email` in and runs the whole activation in that login; returns the secret and the
    /// recovery codes.
    pub async fn log_in_and_activate(&self, email: &str) -> (TotpSecret, Vec<String>) {
        let login = self.login(email, PASSWORD).await;
        assert_eq!(login.status, 200, "{:?}", login.body);
        self.activate(email).await
    }

    /// Runs the whole activation for the user currently logging in; returns the secret and the
    /// recovery codes.
    pub async fn activate(&self, email: &str) -> (TotpSecret, Vec<String>) {
        let verified = self.validate_email(email).await;
        assert_eq!(verified.status, 200, "{:?}", verified.body);
        let setup = self.call("enroll/authenticator", json!({})).await;
        assert_eq!(setup.status, 200, "{:?}", setup.body);
        let secret = TotpSecret::from_base32(setup.body["manual_key"].as_str().unwrap()).unwrap();
        let activated = self.call("enroll/activate", json!({ "code": code_now(&secret, 0) })).await;
        assert_eq!(activated.status, 200, "{:?}", activated.body);
        let codes = activated.body["recovery_codes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c.as_str().unwrap().to_owned())
            .collect();
        (secret, codes)
    }
}

/// A user whose 2FA an administrator enabled (grey tick): the user and their email.
pub async fn grey_user(app: &TestApp, local: &str) -> (User, String) {
    let user = app.add_user(local, Role::Technician).await;
    app.store.enable_two_factor(&user, "admin-id", now()).await.unwrap();
    (user, app.email(local))
}

/// The tech, with 2FA activated in this browser, which then forgets its cookies: their email,
/// secret and recovery codes.
pub async fn tech_with_2fa(app: &TestApp) -> (String, TotpSecret, Vec<String>) {
    let email = app.email("tech");
    let (secret, codes) = app.log_in_and_activate(&email).await;
    app.forget_cookies();
    (email, secret, codes)
}

/// A user with active 2FA (activated through the API); returns its secret and recovery codes.
pub async fn active_user(app: &TestApp, local: &str) -> (User, TotpSecret, Vec<String>) {
    let user = app.add_user(local, Role::Technician).await;
    app.store.enable_two_factor(&user, &user.id, now()).await.unwrap();
    let browser = app.browser();
    let (secret, codes) = browser.log_in_and_activate(&app.email(local)).await;
    browser.logout().await;
    (user, secret, codes)
}

/// An administrator who activated 2FA, signed in with it in their own browser (returned), with
/// their secret.
pub async fn admin_with_2fa(app: &TestApp, local: &str) -> (TestApp, User, TotpSecret) {
    let admin = app.add_user(local, Role::Administrator).await;
    app.store.enable_two_factor(&admin, &admin.id, now()).await.unwrap();
    let browser = app.browser();
    let (secret, _) = browser.log_in_and_activate(&app.email(local)).await;
    (browser, app.user(&admin).await, secret)
}

/// As if the browser's session had last proven its user's identity long ago (beyond the step-up
/// window).
pub async fn age_session(browser: &TestApp) {
    browser.set_long_ago("__Host-session", "SESSION", "reauth_at").await;
}

/// The login counters of `email` from this machine (127.0.0.1), a source of kind `source`: the
/// pair, then the email's own for that kind.
pub fn counter_keys(email: &str, source: domain::lockout::Source) -> [store::CounterKey; 2] {
    let email = Email::parse(email).unwrap();
    [store::CounterKey::pair(&email, "127.0.0.1"), store::CounterKey::email(&email, source)]
}

/// The code for the current time step plus `offset` steps.
pub fn code_now(secret: &TotpSecret, offset: i64) -> String {
    secret.code_at_step(step_of(now()) + offset, 6)
}

pub fn now() -> UnixTime {
    UnixTime(std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64)
}

/// A user who has logged in from this machine's range (127.0.0.0/24) before.
pub async fn add_user(store: &Store, account_id: &str, email: &str, role: Role) -> User {
    let user = store
        .create_user(NewUser {
            account_id: account_id.to_owned(),
            email: Email::parse(email).unwrap(),
            name: format!("User {email}"),
            role,
            password_hash: hash_password(PASSWORD),
        })
        .await
        .unwrap();
    store.add_verified_range(account_id, &user.id, "127.0.0.0/24").await.unwrap();
    store.get_user(account_id, &user.id).await.unwrap().unwrap()
}

fn unique_id() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos();
    format!("t{nanos}x{}x{}", std::process::id(), NEXT.fetch_add(1, Ordering::Relaxed))
}

async fn serve(router: axum::Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let app = router.into_make_service();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    format!("http://{addr}")
}

/// Starts every function's router on a free port against a fresh table with two accounts.
pub async fn spawn_app() -> TestApp {
    for var in ["AWS_ENDPOINT_URL_DYNAMODB", "AWS_ENDPOINT_URL_SES"] {
        assert!(std::env::var_os(var).is_some(), "{var} must point at the local server: run ./scripts/test");
    }
    let id = unique_id();
    let store = Store::from_env(format!("test-{id}")).await;
    let template = std::fs::read_to_string(devkit::template_path()).unwrap();
    devkit::table::create_table(&store, &template).await.unwrap();
    let domain = format!("{id}.example");
    let (tech, other_account_user) = seed_two_accounts(&store, &domain).await;
    let dynamodb = Arc::new(aws_proxy::Proxy::start(&env("AWS_ENDPOINT_URL_DYNAMODB")).await.unwrap());
    let ses = Arc::new(aws_proxy::Proxy::start(&env("AWS_ENDPOINT_URL_SES")).await.unwrap());
    let bases = serve_functions(&store, &dynamodb, &ses).await;
    TestApp {
        bases,
        store,
        dynamodb,
        ses,
        http: reqwest::Client::new(),
        viewer_ip: Mutex::new("127.0.0.1".into()),
        domain,
        tech,
        other_account_user,
        cookies: Default::default(),
    }
}

fn env(var: &str) -> String {
    std::env::var(var).unwrap()
}

/// The test's account, with its technician and device `d1`, and another account, with its own
/// technician and device `d2`: returns the two technicians.
async fn seed_two_accounts(store: &Store, domain: &str) -> (User, User) {
    let account = store.create_account("Test MSP").await.unwrap();
    let tech = add_user(store, &account.id, &format!("tech@{domain}"), Role::Technician).await;
    put_device(store, "d1", &account.id, "FRONTDESK-PC01", "Harbor Dental").await;
    let other = store.create_account("Other MSP").await.unwrap();
    let other_account_user =
        add_user(store, &other.id, &format!("tech@other-{domain}"), Role::Technician).await;
    put_device(store, "d2", &other.id, "OTHER-SECRET-PC", "Someone else").await;
    (tech, other_account_user)
}

async fn put_device(store: &Store, id: &str, account_id: &str, name: &str, customer: &str) {
    let device = Device {
        id: id.into(),
        account_id: account_id.into(),
        name: name.into(),
        customer: customer.into(),
        os: "Windows 11".into(),
    };
    store.put_device(&device).await.unwrap();
}

/// Each API group's function on a free port, reaching DynamoDB and SES through the test's
/// proxies: the group's base URL.
async fn serve_functions(
    store: &Store,
    dynamodb: &aws_proxy::Proxy,
    ses: &aws_proxy::Proxy,
) -> BTreeMap<&'static str, String> {
    let config = api::server::Config {
        table_name: store.table().to_owned(),
        app_origin: ORIGIN.into(),
        sender_address: "Dashboard <no-reply@dashboard.test>".into(),
        totp_keys: Some(domain::crypto::Keyring::parse(TOTP_KEYS).unwrap()),
        origin_secret: api::server::OriginSecret::new(ORIGIN_SECRET).unwrap(),
    };
    let mailer = mail::Mailer::from_env(config.sender_address.clone()).await.via(ses.url());
    let ctx = api::server::Ctx { store: store.via(dynamodb.url()), mailer, config };
    BTreeMap::from([
        ("auth", serve(auth::router(ctx.clone())).await),
        ("enroll", serve(enrollment::router(ctx.clone())).await),
        ("remote", serve(::remote::router(ctx.clone())).await),
        ("accounts", serve(::accounts::router(ctx)).await),
    ])
}

pub async fn assert_signed_out(app: &TestApp) {
    let reply = app.me().await;
    assert_eq!((reply.status, reply.body), (200, Value::Null));
}
