//! The dashboard's four functions in this process: their real routers, called without a network
//! (`tower::ServiceExt::oneshot`), against a fresh table in the local DynamoDB and the local SES
//! endpoint that `devstack/stack.py run` started. Requests carry what CloudFront adds, as in
//! `functions/integration-tests` (`spawn_app`, `TestApp::call_with`).

use std::collections::BTreeMap;

use api::server::http::{ORIGIN_SECRET_HEADER, VIEWER_ADDRESS_HEADER};
use axum::Router;
use axum::body::Body;
use axum::http::Request;
use domain::crypto::Keyring;
use domain::totp::{TotpSecret, step_of};
use domain::{Email, Role, UnixTime, recovery};
use futures::{StreamExt, TryStreamExt};
use serde_json::Value;
use store::{Account, Device, NewUser, Store, User};
use tower::ServiceExt;

use crate::capacity::ReadUnits;

pub const ORIGIN: &str = "http://dashboard.bench";
pub const PASSWORD: &str = "Bench-Passw0rd!";
/// What this system's CloudFront adds to every request.
const ORIGIN_SECRET: &str = "bench-origin-secret-0123456789abcdef";
const TOTP_KEYS: &str = "bench1:000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";
/// The browser's address as CloudFront reports it: in every user's verified range...
pub const HOME: &str = "127.0.0.1:50123";
/// ...or in none (the login waits for an emailed link).
pub const NEW_PLACE: &str = "203.0.113.7:50123";
/// The device every account has; Take Control is started on it.
pub const DEVICE_ID: &str = "bench-device";

type Error = Box<dyn std::error::Error + Send + Sync>;

/// One context and the four routers built on it (cheap to clone).
#[derive(Clone)]
pub struct Functions {
    routers: BTreeMap<&'static str, Router>,
}

impl Functions {
    fn new(ctx: api::server::Ctx) -> Self {
        let routers = BTreeMap::from([
            ("auth", auth::router(ctx.clone())),
            ("enroll", enrollment::router(ctx.clone())),
            ("remote", remote::router(ctx.clone())),
            ("accounts", accounts::router(ctx)),
        ]);
        Functions { routers }
    }

    /// A browser with no cookies yet, at `viewer` (`address:port`).
    pub fn browser(&self, viewer: &'static str) -> Browser {
        Browser { functions: self.clone(), viewer, cookies: BTreeMap::new() }
    }
}

/// A simulated browser: its address and its cookie jar (`__Host-session`, `__Host-login`,
/// `__Host-device`).
pub struct Browser {
    functions: Functions,
    viewer: &'static str,
    cookies: BTreeMap<String, String>,
}

impl Browser {
    /// POSTs `body` to `/api/<path>` as the browser would, through CloudFront; panics on any
    /// answer but 200 (a benchmark of failing calls would measure nothing useful).
    pub async fn call(&mut self, path: &str, body: Value) -> Value {
        let group = path.split('/').next().unwrap_or_default();
        let router = self.functions.routers.get(group).unwrap_or_else(|| panic!("no function for {path}"));
        let mut request = Request::post(format!("/api/{path}"))
            .header(ORIGIN_SECRET_HEADER, ORIGIN_SECRET)
            .header(VIEWER_ADDRESS_HEADER, self.viewer)
            .header("content-type", "application/json")
            .header("origin", ORIGIN);
        if !self.cookies.is_empty() {
            let jar: Vec<String> = self.cookies.iter().map(|(k, v)| format!("{k}={v}")).collect();
            request = request.header("cookie", jar.join("; "));
        }
        let request = request.body(Body::from(body.to_string())).expect("a valid request");
        let response = router.clone().oneshot(request).await.expect("routers never fail");
        let status = response.status();
        for set_cookie in response.headers().get_all("set-cookie") {
            self.remember(set_cookie.to_str().unwrap_or_default());
        }
        let bytes = axum::body::to_bytes(response.into_body(), usize::MAX).await.expect("a readable body");
        let reply: Value = serde_json::from_slice(&bytes)
            .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned()));
        assert!(status.is_success(), "{path} answered {status}: {reply}");
        reply
    }

    fn remember(&mut self, set_cookie: &str) {
        let pair = set_cookie.split(';').next().unwrap_or_default();
        let Some((name, value)) = pair.split_once('=') else { return };
        if value.is_empty() || set_cookie.contains("Max-Age=0") {
            self.cookies.remove(name);
        } else {
            self.cookies.insert(name.to_owned(), value.to_owned());
        }
    }
}

/// The store, the functions twice (straight to DynamoDB, and through a proxy that counts the
/// calls, with a meter of read capacity), and what seeding needs.
pub struct System {
    pub store: Store,
    /// Straight to DynamoDB Local: what speed is measured on (the proxy would add its own work).
    pub direct: Functions,
    /// Through [`System::dynamodb`]: what calls are counted on.
    pub counted: Functions,
    pub dynamodb: aws_proxy::Proxy,
    /// The read capacity the counted functions consumed.
    pub read_units: ReadUnits,
    keys: Keyring,
    /// The authenticator of every 2FA user (each user's copy is sealed for that user).
    pub secret: TotpSecret,
    /// Hashes of one set of recovery codes, given to every 2FA user.
    recovery_hashes: Vec<String>,
    /// This run's email domain, so its mail is told apart in the shared SES store.
    pub domain: String,
    /// One argon2id hash of [`PASSWORD`], shared by every user (hashing thousands would take minutes).
    password_hash: String,
}

impl System {
    /// A fresh table (never deleted: DynamoDB Local keeps it in memory) and the functions on it.
    pub async fn start() -> Result<System, Error> {
        let dynamodb_url = std::env::var("AWS_ENDPOINT_URL_DYNAMODB")
            .map_err(|_| "AWS_ENDPOINT_URL_DYNAMODB is not set: run through devstack/stack.py run")?;
        let run = run_id();
        let store = Store::from_env(format!("bench-{run}")).await;
        let template = std::fs::read_to_string(devkit::template_path())?;
        devkit::table::create_table(&store, &template).await?;
        let keys = Keyring::parse(TOTP_KEYS).map_err(|e| format!("bench key ring: {e}"))?;
        let config = api::server::Config {
            table_name: store.table().to_owned(),
            app_origin: ORIGIN.into(),
            sender_address: "Dashboard <no-reply@dashboard.bench>".into(),
            totp_keys: Some(keys.clone()),
            origin_secret: api::server::OriginSecret::new(ORIGIN_SECRET)?,
        };
        let recovery_hashes = recovery::generate().iter().filter_map(|c| recovery::hash(&keys, c)).collect();
        let mailer = mail::Mailer::from_env(config.sender_address.clone()).await;
        let dynamodb = aws_proxy::Proxy::start(&dynamodb_url).await?;
        let direct =
            api::server::Ctx { store: store.clone(), mailer: mailer.clone(), config: config.clone() };
        let read_units = ReadUnits::default();
        let counted_store = read_units.on(&store.via(dynamodb.url()));
        let counted = api::server::Ctx { store: counted_store, mailer, config };
        Ok(System {
            store,
            direct: Functions::new(direct),
            counted: Functions::new(counted),
            dynamodb,
            read_units,
            keys,
            secret: TotpSecret::generate(),
            recovery_hashes,
            domain: format!("{run}.bench.example"),
            password_hash: domain::password::hash_password(PASSWORD),
        })
    }

    pub fn email(&self, local: &str) -> String {
        format!("{local}@{}", self.domain)
    }

    /// An account with the device Take Control is started on.
    pub async fn account(&self, name: &str) -> Result<Account, Error> {
        let account = self.store.create_account(name).await?;
        let device = Device {
            id: DEVICE_ID.into(),
            account_id: account.id.clone(),
            name: "FRONTDESK-PC01".into(),
            customer: "Harbor Dental".into(),
            os: "Windows 11".into(),
        };
        self.store.put_device(&device).await?;
        Ok(account)
    }

    /// A user without 2FA; `home`: has logged in from [`HOME`]'s range before.
    pub async fn user(&self, account: &Account, local: &str, role: Role, home: bool) -> Result<User, Error> {
        let new = NewUser {
            account_id: account.id.clone(),
            email: Email::parse(&self.email(local))?,
            name: format!("User {local}"),
            role,
            password_hash: self.password_hash.clone(),
        };
        let user = self.store.create_user(new).await?;
        if home {
            self.store.add_verified_range(&account.id, &user.id, "127.0.0.0/24").await?;
        }
        Ok(user)
    }

    /// `count` technicians `<prefix>0000`, `<prefix>0001`, ..., created `concurrency` at a time.
    pub async fn users(
        &self,
        account: &Account,
        prefix: &str,
        count: usize,
        concurrency: usize,
    ) -> Result<Vec<User>, Error> {
        futures::stream::iter(0..count)
            .map(|i| async move { self.user(account, &format!("{prefix}{i:04}"), Role::Technician, true).await })
            .buffer_unordered(concurrency)
            .try_collect()
            .await
    }

    /// Activates 2FA for `user` with [`System::secret`], by the writes of the activation flow
    /// (as `devkit seed` does for its green-tick users), without the emails.
    pub async fn activate_2fa(&self, user: &User) -> Result<(), Error> {
        let hashes = self.recovery_hashes.clone();
        devkit::seed::activate_2fa(&self.store, &self.keys, user, &self.secret, hashes, "bench").await
    }

    /// `count` technicians with active 2FA.
    pub async fn users_with_2fa(
        &self,
        account: &Account,
        prefix: &str,
        count: usize,
    ) -> Result<Vec<User>, Error> {
        let users = self.users(account, prefix, count, 16).await?;
        futures::stream::iter(&users)
            .map(|u| self.activate_2fa(u))
            .buffer_unordered(16)
            .try_collect::<()>()
            .await?;
        Ok(users)
    }

    /// The current code of [`System::secret`] (accepted once per user and 30-second step).
    pub fn passcode(&self) -> String {
        self.secret.code_at_step(step_of(now()), 6)
    }

    /// The token of the newest IP-verification link emailed to `to`, from the SES stand-in's store.
    pub async fn ip_link_token(&self, to: &str) -> Result<String, Error> {
        let ses = std::env::var("AWS_ENDPOINT_URL_SES")?;
        let store: Value = serde_json::from_str(&reqwest::get(format!("{ses}/store")).await?.text().await?)?;
        let emails = store["emails"].as_array().ok_or("the SES store has no emails list")?;
        let text = emails
            .iter()
            .rev()
            .filter(|m| m["destination"]["to"].to_string().contains(to))
            .find(|m| m["subject"].as_str().is_some_and(|s| s.contains("new location")))
            .and_then(|m| m["body"]["text"].as_str())
            .ok_or_else(|| format!("no IP verification email to {to}"))?;
        let at = text.find("verify-ip=").ok_or("no link in the email")? + "verify-ip=".len();
        Ok(text.get(at..at + 64).ok_or("short link")?.to_owned())
    }
}

pub fn now() -> UnixTime {
    UnixTime(std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default().as_secs()
        as i64)
}

/// Unique per run: names the table and the email domain.
fn run_id() -> String {
    let nanos =
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default().as_nanos();
    format!("r{nanos}x{}", std::process::id())
}
