//! The two demo accounts the dev command prints logins for: users in each 2FA state, and devices.

use domain::audit::AuditAction;
use domain::crypto::Keyring;
use domain::password::hash_password;
use domain::totp::TotpSecret;
use domain::twofactor::TwoFactorStatus::{self, Active, EnabledNotActivated, Off};
use domain::{Email, Role, UnixTime, recovery};
use store::{
    Activate, Activation, AuditEvent, Binding, CodeSave, CodeUse, Device, NewUser, PendingSecretSave, Store,
};

type Error = Box<dyn std::error::Error + Send + Sync>;

/// Every demo user has this password (printed by the dev command; local use only).
pub const DEMO_PASSWORD: &str = "Demo-Passw0rd!";

/// The authenticator key of every demo user with active 2FA: add it to an authenticator app, or
/// run `devkit totp` for the current code.
pub const DEMO_TOTP_KEY: &str = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP";

/// Their recovery codes (each works once per user and seeded stack).
pub const DEMO_RECOVERY_CODES: &[&str] = &["SAMP-AAAA-2222", "SAMP-BBBB-3333", "SAMP-CCCC-4444"];

pub struct DemoUser {
    pub account: &'static str,
    pub email: &'static str,
    pub name: &'static str,
    pub role: Role,
    pub two_factor: TwoFactorStatus,
}

const fn demo(
    account: &'static str,
    email: &'static str,
    name: &'static str,
    role: Role,
    two_factor: TwoFactorStatus,
) -> DemoUser {
    DemoUser { account, email, name, role, two_factor }
}

pub const DEMO_USERS: &[DemoUser] = &[
    demo(NORTHWIND, "admin@northwind.example", "Alex Morgan", Role::Administrator, Off),
    demo(NORTHWIND, "tech@northwind.example", "Taylor Reed", Role::Technician, Off),
    demo(NORTHWIND, "sam@northwind.example", "Sam Patel", Role::Technician, Active),
    demo(NORTHWIND, "dana@northwind.example", "Dana Kim", Role::Technician, EnabledNotActivated),
    demo(NORTHWIND, "jordan@northwind.example", "Jordan Lee", Role::Technician, Off),
    demo(NORTHWIND, "lee@northwind.example", "Lee Novak", Role::Technician, Off),
    demo(NORTHWIND, "casey@northwind.example", "Casey Brooks", Role::Technician, EnabledNotActivated),
    demo(NORTHWIND, "riley@northwind.example", "Riley Chen", Role::Technician, Off),
    demo(NORTHWIND, "kim@northwind.example", "Kim Ortiz", Role::Technician, Active),
    demo(NORTHWIND, "quinn@northwind.example", "Quinn Walsh", Role::Technician, Active),
    demo(NORTHWIND, "avery@northwind.example", "Avery Fox", Role::Technician, Off),
    demo(NORTHWIND, "drew@northwind.example", "Drew Hale", Role::Technician, Active),
    demo(NORTHWIND, "morgan@northwind.example", "Morgan Blake", Role::Technician, Off),
    demo(CONTOSO, "pat@contoso.example", "Pat Rivera", Role::Technician, Off),
];

/// 2FA becomes required for Take Control and RBM 30 days after the day of seeding.
pub const NORTHWIND: &str = "Northwind IT";
/// 2FA has been required for Take Control and RBM since the day before seeding.
pub const CONTOSO: &str = "Contoso Support";

const DEMO_DEVICES: &[(&str, &str, &str, &str)] = &[
    (NORTHWIND, "FRONTDESK-PC01", "Harbor Dental", "Windows 11 Pro"),
    (NORTHWIND, "ACCT-LAPTOP-07", "Harbor Dental", "Windows 10 Pro"),
    (NORTHWIND, "FS01", "Blue Finch Law", "Windows Server 2022"),
    (NORTHWIND, "MAC-DESIGN-02", "Blue Finch Law", "macOS 15"),
    (NORTHWIND, "WEB-UBUNTU-01", "Northwind IT", "Ubuntu 24.04 LTS"),
    (CONTOSO, "RECEPTION-01", "Maple Clinic", "Windows 11 Pro"),
    (CONTOSO, "SQL-02", "Maple Clinic", "Windows Server 2019"),
];

fn now() -> UnixTime {
    UnixTime(std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default().as_secs()
        as i64)
}

/// Seeds both accounts with their 2FA policies, users and devices. `keys` seals the secret of the
/// users with active 2FA.
pub async fn seed_demo(store: &Store, keys: &Keyring) -> Result<(), Error> {
    let northwind = store.create_account(NORTHWIND).await?;
    // Dates start at 00:00 UTC, as General Settings sets them.
    let today = UnixTime(now().seconds() - now().seconds().rem_euclid(86_400));
    store.set_account_policy(&northwind.id, false, Some(today.plus_seconds(30 * 86_400))).await?;
    let contoso = store.create_account(CONTOSO).await?;
    store.set_account_policy(&contoso.id, false, Some(today.plus_seconds(-86_400))).await?;
    let account_id = |name: &str| {
        if name == CONTOSO { contoso.id.clone() } else { northwind.id.clone() }
    };
    let password_hash = hash_password(DEMO_PASSWORD);
    let mut admin_id = String::new();
    for demo in DEMO_USERS {
        let user = store
            .create_user(NewUser {
                account_id: account_id(demo.account),
                email: Email::parse(demo.email)?,
                name: demo.name.to_owned(),
                role: demo.role,
                password_hash: password_hash.clone(),
            })
            .await?;
        // Every demo user has logged in from this machine before: its range is verified.
        store.add_verified_range(&user.account_id, &user.id, "127.0.0.0/24").await?;
        if demo.role == Role::Administrator {
            admin_id = user.id.clone();
        }
        match demo.two_factor {
            TwoFactorStatus::Off => {}
            TwoFactorStatus::EnabledNotActivated => store.enable_two_factor(&user, &admin_id, now()).await?,
            TwoFactorStatus::Active => {
                let secret = TotpSecret::from_base32(DEMO_TOTP_KEY).ok_or("bad demo key")?;
                let hashes = DEMO_RECOVERY_CODES.iter().filter_map(|c| recovery::hash(keys, c)).collect();
                activate_2fa(store, keys, &user, &secret, hashes, "demo account").await?;
            }
        }
    }
    for (i, (account, name, customer, os)) in DEMO_DEVICES.iter().enumerate() {
        store
            .put_device(&Device {
                id: format!("dev-{:03}", i + 1),
                account_id: account_id(account),
                name: (*name).to_owned(),
                customer: (*customer).to_owned(),
                os: (*os).to_owned(),
            })
            .await?;
    }
    Ok(())
}

/// The audit events about `email` (the user they name as subject), newest first, as
/// `action<TAB>detail<TAB>ip` lines.
pub async fn audit_lines(store: &Store, email: &str) -> Result<Vec<String>, Error> {
    let user = store.find_user_by_email(&Email::parse(email)?).await?.ok_or("no such user")?;
    let events = store.list_audit(&user.account_id, 500).await?;
    Ok(events
        .into_iter()
        .filter(|e| e.subject_user_id.as_deref() == Some(user.id.as_str()))
        .map(|e| format!("{}\t{}\t{}", e.action, e.detail, e.client_ip))
        .collect())
}

/// Activates 2FA for `user` with `secret` and the recovery codes `recovery_hashes`, by the writes
/// of the activation flow, without its emails (demo and benchmark users); `detail` is audited.
pub async fn activate_2fa(
    store: &Store,
    keys: &Keyring,
    user: &store::User,
    secret: &TotpSecret,
    recovery_hashes: Vec<String>,
    detail: &str,
) -> Result<(), Error> {
    let now = now();
    let sealed = keys.seal(secret.expose_bytes(), &user.id);
    let binding = Binding { token_hash: "activation without email", expires_at: now.plus_seconds(60) };
    store.enable_two_factor(user, &user.id, now).await?;
    // As enabled now: activation moves the account's counts from the status it finds.
    let user = &store.get_user(&user.account_id, &user.id).await?.ok_or("no such user")?;
    let ready = store.save_email_code(user, binding, "seeded", now, now, 1).await? == CodeSave::Saved
        && store.mark_email_verified(user, "seeded", now).await? == CodeUse::Verified
        && store.set_pending_secret(user, binding, &sealed, now).await? == PendingSecretSave::Saved;
    let audit = AuditEvent {
        account_id: user.account_id.clone(),
        actor_user_id: Some(user.id.clone()),
        subject_user_id: Some(user.id.clone()),
        action: AuditAction::Activated.code().into(),
        client_ip: "127.0.0.1".into(),
        at: now,
        detail: detail.into(),
        device_id: None,
        keep_until: None,
    };
    let activation = Activation { pending_secret: &sealed, step: 0, recovery_hashes, audit: &audit };
    if !ready || store.activate_two_factor(user, activation, None).await? != Activate::Activated {
        return Err(format!("the store refused to activate {}", user.email).into());
    }
    Ok(())
}

/// The demo authenticator's code right now.
pub fn demo_code_now() -> String {
    let secret = TotpSecret::from_base32(DEMO_TOTP_KEY).expect("valid demo key");
    secret.code_at_step(domain::totp::step_of(now()), 6)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn demo_secrets_are_well_formed() {
        assert_eq!(TotpSecret::from_base32(DEMO_TOTP_KEY).unwrap().expose_bytes().len(), 20);
        for code in DEMO_RECOVERY_CODES {
            assert!(recovery::looks_like_recovery_code(code), "{code}");
        }
        assert_eq!(demo_code_now().len(), 6);
    }
}
