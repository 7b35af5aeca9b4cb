//! Password hashing with argon2id at the OWASP minimum (m = 19 MiB, t = 2, p = 1).

use std::sync::OnceLock;

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};

/// Longest password accepted; anything longer is refused before hashing so it cannot be used to
/// make the server burn time.
pub const MAX_PASSWORD_LEN: usize = 256;

fn argon2() -> Argon2<'static> {
    let params = Params::new(19 * 1024, 2, 1, None).expect("valid argon2 parameters");
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// Hashes a password into a PHC string (salt and parameters included).
pub fn hash_password(password: &str) -> String {
    let salt = SaltString::generate(&mut rand::rngs::OsRng);
    argon2()
        .hash_password(password.as_bytes(), &salt)
        .expect("argon2 hashing cannot fail with valid parameters")
        .to_string()
}

/// A hash of no one's password, verified when the email is unknown so that an unknown email and a
/// wrong password cost the same time.
fn dummy_hash() -> &'static str {
    static DUMMY: OnceLock<String> = OnceLock::new();
    DUMMY.get_or_init(|| hash_password("dummy password that matches no account"))
}

/// Verifies `password` against the stored hash, or against a dummy hash when there is no user, so
/// that both paths do exactly one argon2id verification.
pub fn verify_password(password: &str, stored: Option<&str>) -> bool {
    if password.len() > MAX_PASSWORD_LEN {
        // Still spend the time, so length does not reveal whether the account exists.
        let _ = verify_against(password, dummy_hash());
        return false;
    }
    match stored {
        Some(hash) => verify_against(password, hash),
        None => {
            let _ = verify_against(password, dummy_hash());
            false
        }
    }
}

fn verify_against(password: &str, phc: &str) -> bool {
    match PasswordHash::new(phc) {
        Ok(parsed) => argon2().verify_password(password.as_bytes(), &parsed).is_ok(),
        Err(_) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hash_verifies_its_password_only() {
        let hash = hash_password("correct horse battery staple");
        assert!(hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
        assert!(verify_password("correct horse battery staple", Some(&hash)));
        assert!(!verify_password("Correct horse battery staple", Some(&hash)));
    }

    #[test]
    fn unknown_user_and_garbage_hash_never_verify() {
        assert!(!verify_password("anything", None));
        assert!(!verify_password("anything", Some("not a phc string")));
    }

    #[test]
    fn oversized_passwords_are_refused() {
        let long = "x".repeat(MAX_PASSWORD_LEN + 1);
        let hash = hash_password(&long);
        assert!(!verify_password(&long, Some(&hash)));
    }
}
