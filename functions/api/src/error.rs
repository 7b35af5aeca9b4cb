//! The one error every server function returns. Its variant decides the HTTP status (see
//! `server::http`), and its message is written for the person at the screen.

use leptos::server_fn::codec::JsonEncoding;
use leptos::server_fn::error::{FromServerFnError, ServerFnErrorErr};
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[serde(tag = "kind", try_from = "WireError")]
pub enum ApiError {
    /// The request is malformed or a field is invalid (400). Nothing was changed.
    #[error("{message}")]
    BadRequest { message: String },
    /// No valid session, or wrong credentials (401).
    #[error("{message}")]
    Unauthenticated { message: String },
    /// Signed in, but not allowed (403).
    #[error("{message}")]
    Forbidden { message: String },
    /// The action lowers security and the session's last proof of identity is too old (403):
    /// ask for the passcode (`passcode`) or else the password, send it to `auth/step-up`,
    /// then send the action again.
    #[error("{message}")]
    StepUpRequired { message: String, passcode: bool },
    /// No such thing in the user's account (404).
    #[error("{message}")]
    NotFound { message: String },
    /// Too many failures; try again at `until` (epoch seconds) (429).
    #[error("{message}")]
    LockedOut { message: String, until: i64 },
    /// Our fault (500). The message never carries internal detail.
    #[error("{message}")]
    Internal { message: String },
    /// A service we depend on (DynamoDB, SES) is out of reach for now (503). Nothing was changed;
    /// the same request can be sent again.
    #[error("{message}")]
    Unavailable { message: String },
    /// The server could not be reached (client side only).
    #[error("{message}")]
    Unreachable { message: String },
}

/// The JSON of an [`ApiError`] read as one flat record: serde's own reading of an internally
/// tagged enum buffers every field generically, which costs the app about 20 KB of WASM.
#[derive(Deserialize)]
struct WireError {
    kind: String,
    message: String,
    #[serde(default)]
    until: i64,
    #[serde(default)]
    passcode: bool,
}

impl TryFrom<WireError> for ApiError {
    type Error = String;

    fn try_from(w: WireError) -> Result<Self, String> {
        let message = w.message;
        Ok(match w.kind.as_str() {
            "BadRequest" => ApiError::BadRequest { message },
            "Unauthenticated" => ApiError::Unauthenticated { message },
            "Forbidden" => ApiError::Forbidden { message },
            "StepUpRequired" => ApiError::StepUpRequired { message, passcode: w.passcode },
            "NotFound" => ApiError::NotFound { message },
            "LockedOut" => ApiError::LockedOut { message, until: w.until },
            "Internal" => ApiError::Internal { message },
            "Unavailable" => ApiError::Unavailable { message },
            "Unreachable" => ApiError::Unreachable { message },
            other => return Err(format!("unknown error kind {other}")),
        })
    }
}

impl ApiError {
    pub fn bad_request(message: impl Into<String>) -> Self {
        ApiError::BadRequest { message: message.into() }
    }

    pub fn unauthenticated(message: impl Into<String>) -> Self {
        ApiError::Unauthenticated { message: message.into() }
    }

    pub fn forbidden(message: impl Into<String>) -> Self {
        ApiError::Forbidden { message: message.into() }
    }

    pub fn internal() -> Self {
        ApiError::Internal { message: "Something went wrong on our side. Please try again.".into() }
    }

    pub fn unavailable() -> Self {
        ApiError::Unavailable {
            message: "The dashboard cannot reach its database right now. Nothing was changed; please try again in a moment.".into(),
        }
    }

    pub fn status(&self) -> u16 {
        match self {
            ApiError::BadRequest { .. } => 400,
            ApiError::Unauthenticated { .. } => 401,
            ApiError::Forbidden { .. } | ApiError::StepUpRequired { .. } => 403,
            ApiError::NotFound { .. } => 404,
            ApiError::LockedOut { .. } => 429,
            ApiError::Internal { .. } => 500,
            ApiError::Unavailable { .. } | ApiError::Unreachable { .. } => 503,
        }
    }
}

impl FromServerFnError for ApiError {
    type Encoder = JsonEncoding;

    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        match value {
            // On the server, Deserialization means the request's arguments could not be decoded.
            ServerFnErrorErr::Args(detail) | ServerFnErrorErr::Deserialization(detail)
                if cfg!(feature = "ssr") =>
            {
                ApiError::bad_request(format!("The request could not be read: {detail}"))
            }
            ServerFnErrorErr::MissingArg(name) => {
                ApiError::bad_request(format!("The request is missing `{name}`."))
            }
            ServerFnErrorErr::Request(_) => ApiError::Unreachable {
                message: "The dashboard could not be reached. Check your connection and try again.".into(),
            },
            _ => ApiError::internal(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_error_reads_back_as_it_was_written() {
        let message = || "m".to_owned();
        let all = [
            ApiError::BadRequest { message: message() },
            ApiError::Unauthenticated { message: message() },
            ApiError::Forbidden { message: message() },
            ApiError::StepUpRequired { message: message(), passcode: true },
            ApiError::NotFound { message: message() },
            ApiError::LockedOut { message: message(), until: 42 },
            ApiError::Internal { message: message() },
            ApiError::Unavailable { message: message() },
            ApiError::Unreachable { message: message() },
        ];
        for error in all {
            let json = serde_json::to_string(&error).unwrap();
            assert_eq!(serde_json::from_str::<ApiError>(&json).unwrap(), error, "{json}");
        }
        assert!(serde_json::from_str::<ApiError>(r#"{"kind":"Nope","message":"m"}"#).is_err());
    }
}
