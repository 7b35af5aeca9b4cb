//! The demo account the dev command prints logins for: users in each 2FA state.

use domain::crypto::Keyring;
use domain::password::hash_password;
use domain::totp::TotpSecret;
use domain::twofactor::Status;
use domain::{Email, Role, UnixTime, recovery};
use store::{Device, NewUser, Store};

type Error = Box<dyn std::error::Error + Send + Sync>;

/// Every demo user has this password (printed by the dev command; local use only).
pub const DEMO_PASSWORD: &str = "Demo-Passw0rd!";

/// The authenticator key of the demo user with active 2FA: add it to an authenticator app, or run
/// `devkit totp` for the current code.
pub const DEMO_TOTP_KEY: &str = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP";

/// That user's recovery codes (each works once per seeded stack).
pub const DEMO_RECOVERY_CODES: &[&str] = &["SAMP-AAAA-2222", "SAMP-BBBB-3333", "SAMP-CCCC-4444"];

pub struct DemoUser {
    pub email: &'static str,
    pub name: &'static str,
    pub role: Role,
    pub two_factor: Status,
}

pub const DEMO_USERS: &[DemoUser] = &[
    DemoUser {
        email: "admin@northwind.example",
        name: "Alex Morgan",
        role: Role::Administrator,
        two_factor: Status::Off,
    },
    DemoUser {
        email: "tech@northwind.example",
        name: "Taylor Reed",
        role: Role::Technician,
        two_factor: Status::Off,
    },
    DemoUser {
        email: "sam@northwind.example",
        name: "Sam Patel",
        role: Role::Technician,
        two_factor: Status::Active,
    },
    DemoUser {
        email: "dana@northwind.example",
        name: "Dana Kim",
        role: Role::Technician,
        two_factor: Status::EnabledNotActivated,
    },
    DemoUser {
        email: "lee@northwind.example",
        name: "Lee Novak",
        role: Role::Technician,
        two_factor: Status::Off,
    },
];

const DEMO_DEVICES: &[(&str, &str, &str)] = &[
    ("FRONTDESK-PC01", "Harbor Dental", "Windows 11 Pro"),
    ("ACCT-LAPTOP-07", "Harbor Dental", "Windows 10 Pro"),
    ("FS01", "Blue Finch Law", "Windows Server 2022"),
    ("MAC-DESIGN-02", "Blue Finch Law", "macOS 15"),
    ("WEB-UBUNTU-01", "Northwind IT", "Ubuntu 24.04 LTS"),
];

fn now() -> UnixTime {
    UnixTime(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default()
            .as_secs() as i64,
    )
}

/// Seeds one account with its users and devices. `keys` encrypts the active user's secret.
pub async fn seed_demo(store: &Store, keys: &Keyring) -> Result<(), Error> {
    let account = store.create_account("Northwind IT").await?;
    let password_hash = hash_password(DEMO_PASSWORD);
    let mut admin_id = String::new();
    for demo in DEMO_USERS {
        let user = store
            .create_user(NewUser {
                account_id: account.id.clone(),
                email: Email::parse(demo.email)?,
                name: demo.name.to_owned(),
                role: demo.role,
                password_hash: password_hash.clone(),
            })
            .await?;
        if demo.role == Role::Administrator {
            admin_id = user.id.clone();
        }
        match demo.two_factor {
            Status::Off => {}
            Status::EnabledNotActivated => store.enable_two_factor(&user, &admin_id, now()).await?,
            Status::Active => {
                // The same writes as the activation flow, without the emails.
                let secret = TotpSecret::from_base32(DEMO_TOTP_KEY).ok_or("bad demo key")?;
                let sealed = keys.encrypt(secret.expose_bytes());
                store.save_email_code(&user, "seeded", now(), now()).await?;
                store.mark_email_verified(&user, "seeded", now()).await?;
                store.set_pending_secret(&user, &sealed).await?;
                let hashes = DEMO_RECOVERY_CODES
                    .iter()
                    .filter_map(|c| recovery::hash(c))
                    .collect();
                store
                    .activate_two_factor(&user, &sealed, 0, hashes, now())
                    .await?;
            }
        }
    }
    for (i, (name, customer, os)) in DEMO_DEVICES.iter().enumerate() {
        store
            .put_device(&Device {
                id: format!("dev-{:03}", i + 1),
                account_id: account.id.clone(),
                name: (*name).to_owned(),
                customer: (*customer).to_owned(),
                os: (*os).to_owned(),
            })
            .await?;
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
        assert_eq!(
            TotpSecret::from_base32(DEMO_TOTP_KEY)
                .unwrap()
                .expose_bytes()
                .len(),
            20
        );
        for code in DEMO_RECOVERY_CODES {
            assert!(recovery::looks_like_recovery_code(code), "{code}");
        }
        assert_eq!(demo_code_now().len(), 6);
    }
}
