//! Roles and what they allow. The server asks these questions; the UI only hides what it is told.

use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Role {
    Administrator,
    Technician,
}

impl Role {
    pub fn label(self) -> &'static str {
        match self {
            Role::Administrator => "Administrator",
            Role::Technician => "Technician",
        }
    }

    /// Stored form; stable across renames of the label.
    pub fn code(self) -> &'static str {
        match self {
            Role::Administrator => "admin",
            Role::Technician => "technician",
        }
    }

    pub fn from_code(code: &str) -> Option<Self> {
        match code {
            "admin" => Some(Role::Administrator),
            "technician" => Some(Role::Technician),
            _ => None,
        }
    }

    /// May open User Accounts and General Settings, and change other users' 2FA.
    pub fn can_manage_users(self) -> bool {
        matches!(self, Role::Administrator)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip_and_unknown_codes_are_refused() {
        for role in [Role::Administrator, Role::Technician] {
            assert_eq!(Role::from_code(role.code()), Some(role));
        }
        assert_eq!(Role::from_code("root"), None);
    }

    #[test]
    fn only_administrators_manage() {
        assert!(Role::Administrator.can_manage_users());
        assert!(!Role::Technician.can_manage_users());
    }
}
