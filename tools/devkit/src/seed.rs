//! The demo account the dev command prints logins for.

use domain::password::hash_password;
use domain::{Email, Role};
use store::{Device, NewUser, Store};

type Error = Box<dyn std::error::Error + Send + Sync>;

/// Every demo user has this password (printed by the dev command; local use only).
pub const DEMO_PASSWORD: &str = "Demo-Passw0rd!";

pub struct DemoUser {
    pub email: &'static str,
    pub name: &'static str,
    pub role: Role,
}

pub const DEMO_USERS: &[DemoUser] = &[
    DemoUser { email: "admin@northwind.example", name: "Alex Morgan", role: Role::Administrator },
    DemoUser { email: "tech@northwind.example", name: "Taylor Reed", role: Role::Technician },
    DemoUser { email: "sam@northwind.example", name: "Sam Patel", role: Role::Technician },
];

const DEMO_DEVICES: &[(&str, &str, &str)] = &[
    ("FRONTDESK-PC01", "Harbor Dental", "Windows 11 Pro"),
    ("ACCT-LAPTOP-07", "Harbor Dental", "Windows 10 Pro"),
    ("FS01", "Blue Finch Law", "Windows Server 2022"),
    ("MAC-DESIGN-02", "Blue Finch Law", "macOS 15"),
    ("WEB-UBUNTU-01", "Northwind IT", "Ubuntu 24.04 LTS"),
];

/// Seeds one account with its users and devices.
pub async fn seed_demo(store: &Store) -> Result<(), Error> {
    let account = store.create_account("Northwind IT").await?;
    let password_hash = hash_password(DEMO_PASSWORD);
    for user in DEMO_USERS {
        store
            .create_user(NewUser {
                account_id: account.id.clone(),
                email: Email::parse(user.email)?,
                name: user.name.to_owned(),
                role: user.role,
                password_hash: password_hash.clone(),
            })
            .await?;
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
