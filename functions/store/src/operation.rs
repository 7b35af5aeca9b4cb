//! What each store operation may ask of DynamoDB. Every public method of [`crate::Store`] is one
//! [`Operation`] and makes its calls through that operation's handle ([`crate::Store::op`]): a
//! call of an action (or a transaction item of a kind, or an index) its operation does not
//! declare panics in debug builds, so the tests that run every operation prove the declarations.
//! A function's IAM policy is the union of what its operations declare (`infra.rs` in the
//! integration tests holds the template to it).
//!
//! An operation that runs another (`CountAttempt` falls back to `RecordFailure`,
//! `CountChallengeFailure` ends in `DeleteChallenge`, `FindUserByEmail` reads with `GetUser`)
//! makes that one's calls under that one's declaration, so a function declares both.

/// A DynamoDB action as IAM names it (`dynamodb:<name>`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Action {
    GetItem,
    BatchGetItem,
    PutItem,
    UpdateItem,
    DeleteItem,
    ConditionCheckItem,
    TransactWriteItems,
    Query,
    Scan,
}

impl std::fmt::Display for Action {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Debug::fmt(self, f)
    }
}

/// One public operation of the store, named after its method.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Operation {
    // Accounts and users (`users.rs`).
    CreateAccount,
    GetAccount,
    GetUserAndAccount,
    AddVerifiedRange,
    SetIpVerification,
    ListUsersPage,
    IndexUsers,
    Names,
    SetAccountPolicy,
    CreateUser,
    FindUserByEmail,
    GetUser,
    // Administrators' changes (`admin.rs`).
    ApplyAdminAction,
    SaveSettings,
    // The audit log (`audit.rs`).
    RecordAudit,
    AuditPage,
    ListAudit,
    // Waiting logins (`challenges.rs`).
    CreateChallenge,
    CreateIpChallenge,
    DeleteIpChallenge,
    GetChallenge,
    CountChallengeFailure,
    SendAnotherIpLink,
    WithdrawIpLink,
    DeleteChallenge,
    FinishSecondFactor,
    // Devices (`devices.rs`).
    PutDevice,
    ListDevices,
    // IP-verification links (`iplinks.rs`).
    UseIpLink,
    // Login counters (`lockout.rs`).
    LoadCounters,
    FindLogin,
    RecordFailure,
    CountAttempt,
    ClearCounter,
    // Take Control and RBM records (`remote.rs`).
    StartRemoteSession,
    // Re-encrypting TOTP secrets (`rotation.rs`).
    SealedSecrets,
    Reseal,
    // Sessions (`sessions.rs`).
    SignIn,
    CreateSession,
    GetSession,
    GetSessionWithUser,
    RecordReauth,
    DeleteSession,
    // Per-user 2FA (`twofactor.rs`).
    EnableTwoFactor,
    GetEnrollment,
    SaveEmailCode,
    WithdrawEmailCode,
    CountEmailCodeTry,
    MarkEmailVerified,
    SetPendingSecret,
    ActivateTwoFactor,
    ReplaceRecoveryCodes,
}

use Action::*;

impl Operation {
    /// The DynamoDB actions the operation may call: the calls it makes and, for a transaction,
    /// the kinds of its items.
    pub fn actions(self) -> &'static [Action] {
        match self {
            Operation::GetAccount
            | Operation::GetUser
            | Operation::FindUserByEmail
            | Operation::GetChallenge
            | Operation::GetSession
            | Operation::GetEnrollment => &[GetItem],
            Operation::GetUserAndAccount
            | Operation::Names
            | Operation::LoadCounters
            | Operation::FindLogin
            | Operation::GetSessionWithUser => &[BatchGetItem],
            Operation::CreateAccount
            | Operation::RecordAudit
            | Operation::PutDevice
            | Operation::CreateSession => &[PutItem],
            Operation::AddVerifiedRange
            | Operation::SetIpVerification
            | Operation::SetAccountPolicy
            | Operation::CountChallengeFailure
            | Operation::Reseal
            | Operation::SaveEmailCode
            | Operation::WithdrawEmailCode
            | Operation::CountEmailCodeTry
            | Operation::MarkEmailVerified
            | Operation::SetPendingSecret
            | Operation::ReplaceRecoveryCodes => &[UpdateItem],
            Operation::DeleteChallenge | Operation::ClearCounter | Operation::DeleteSession => &[DeleteItem],
            Operation::ListUsersPage
            | Operation::AuditPage
            | Operation::ListAudit
            | Operation::ListDevices => &[Query],
            Operation::SealedSecrets => &[Scan],
            // Adds what the users lack, then recounts their accounts.
            Operation::IndexUsers => &[Scan, UpdateItem, Query],
            // Adds one, or starts the counter again.
            Operation::RecordFailure => &[UpdateItem, PutItem],
            Operation::CountAttempt => &[TransactWriteItems, PutItem],
            Operation::CreateUser
            | Operation::ApplyAdminAction
            | Operation::SaveSettings
            | Operation::SendAnotherIpLink => &[TransactWriteItems, PutItem, UpdateItem],
            Operation::EnableTwoFactor => &[TransactWriteItems, UpdateItem],
            Operation::DeleteIpChallenge => &[TransactWriteItems, DeleteItem],
            Operation::WithdrawIpLink => &[TransactWriteItems, UpdateItem, DeleteItem],
            Operation::ActivateTwoFactor => &[TransactWriteItems, UpdateItem, DeleteItem, PutItem],
            Operation::StartRemoteSession => &[TransactWriteItems, ConditionCheckItem, PutItem],
            // Reads the link, then spends it in a transaction.
            Operation::UseIpLink => &[GetItem, TransactWriteItems, DeleteItem, UpdateItem, PutItem],
            // These also settle the login's counters (`Settle`): a check of each, or a delete.
            Operation::CreateChallenge | Operation::CreateIpChallenge => {
                &[TransactWriteItems, PutItem, ConditionCheckItem, DeleteItem]
            }
            Operation::SignIn | Operation::RecordReauth | Operation::FinishSecondFactor => {
                &[TransactWriteItems, PutItem, UpdateItem, ConditionCheckItem, DeleteItem]
            }
        }
    }

    /// The table's indexes the operation reads (every other read is of the table itself).
    pub fn indexes(self) -> &'static [&'static str] {
        match self {
            // One index per column the grid sorts by (`Column::index`).
            Operation::ListUsersPage => &["gsi2", "gsi3", "gsi4", "gsi5", "gsi6"],
            _ => &[],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Column;

    #[test]
    fn the_grid_reads_the_index_of_each_column() {
        let indexes: Vec<&str> = Column::ALL.iter().map(|c| c.index()).collect();
        assert_eq!(Operation::ListUsersPage.indexes(), indexes);
    }
}
