//! A login email address, parsed once at the edge.

use std::fmt;

/// Longest address SMTP allows (RFC 5321 path limit less the angle brackets).
const MAX_LEN: usize = 254;

#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Email(String);

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum EmailError {
    #[error("Enter your email address.")]
    Empty,
    #[error("That email address is too long.")]
    TooLong,
    #[error("That does not look like an email address.")]
    Malformed,
}

impl Email {
    /// Trims and lower-cases, so that one mailbox is one login.
    pub fn parse(raw: &str) -> Result<Self, EmailError> {
        let email = raw.trim().to_lowercase();
        if email.is_empty() {
            return Err(EmailError::Empty);
        }
        if email.len() > MAX_LEN {
            return Err(EmailError::TooLong);
        }
        let (local, host) = email.split_once('@').ok_or(EmailError::Malformed)?;
        let host_ok =
            host.contains('.') && !host.starts_with('.') && !host.ends_with('.') && !host.contains('@');
        if local.is_empty() || !host_ok || email.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(EmailError::Malformed);
        }
        Ok(Email(email))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Email({})", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalises_case_and_whitespace() {
        let email = Email::parse("  Alice@Example.COM ").unwrap();
        assert_eq!(email.as_str(), "alice@example.com");
    }

    #[test]
    fn refuses_what_is_not_an_address() {
        assert_eq!(Email::parse(""), Err(EmailError::Empty));
        assert_eq!(Email::parse("   "), Err(EmailError::Empty));
        assert_eq!(Email::parse("alice"), Err(EmailError::Malformed));
        assert_eq!(Email::parse("@example.com"), Err(EmailError::Malformed));
        assert_eq!(Email::parse("alice@localhost"), Err(EmailError::Malformed));
        assert_eq!(Email::parse("a@b@c.com"), Err(EmailError::Malformed));
        assert_eq!(Email::parse("al ice@example.com"), Err(EmailError::Malformed));
        let long = format!("{}@example.com", "a".repeat(250));
        assert_eq!(Email::parse(&long), Err(EmailError::TooLong));
    }
}
