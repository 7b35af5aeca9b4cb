//! What a failed DynamoDB call means, decided in one place:
//!
//! ```text
//!   a condition lost ──────────────▶ Failure::Condition  → the operation's own outcome (the rule's
//!                                                          answer: `client::outcome`)
//!   timed out / unreachable / 5xx /
//!   throttled / a transaction that
//!   met another transaction ───────▶ Failure::Transient  → retried by the client, then
//!                                                          StoreError::Unavailable ("try again")
//!   anything else ─────────────────▶ Failure::Other      → StoreError::Dynamo (a bug)
//! ```
//!
//! A `TransactionCanceledException` is read reason by reason: one `ConditionalCheckFailed` makes
//! it a lost condition; only conflicts and throttling make it transient, so a transaction that
//! merely met another one is retried, never answered "already used".

use std::any::Any;

use aws_sdk_dynamodb::config::http::HttpResponse;
use aws_sdk_dynamodb::config::interceptors::InterceptorContext;
use aws_sdk_dynamodb::config::retry::{ClassifyRetry, RetryAction};
use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::operation::delete_item::DeleteItemError;
use aws_sdk_dynamodb::operation::put_item::PutItemError;
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::operation::update_item::UpdateItemError;
use call_budget::DYNAMODB;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Failure {
    Condition,
    Transient,
    Other,
}

/// Error codes that say "not now" rather than "no".
const TRANSIENT_CODES: &[&str] = &[
    "InternalServerError",
    "ServiceUnavailable",
    "ThrottlingException",
    "ProvisionedThroughputExceededException",
    "RequestLimitExceeded",
    "LimitExceededException",
    "TransactionConflictException",
    "TransactionInProgressException",
];

/// Cancellation reasons that say the same for one item of a transaction.
const TRANSIENT_REASONS: &[&str] =
    &["TransactionConflict", "ThrottlingError", "ProvisionedThroughputExceeded", "RequestLimitExceeded"];

/// Decides from what DynamoDB answered: the HTTP status, the error code, and (for a cancelled
/// transaction) the reason of each item in order.
pub fn classify(status: u16, code: Option<&str>, reasons: &[&str]) -> Failure {
    // A condition that failed is the rule's answer, even if another item also conflicted.
    if code == Some("ConditionalCheckFailedException") || reasons.contains(&"ConditionalCheckFailed") {
        return Failure::Condition;
    }
    let transient = status >= 500
        || code.is_some_and(|c| TRANSIENT_CODES.contains(&c))
        || reasons.iter().any(|r| TRANSIENT_REASONS.contains(r));
    if transient { Failure::Transient } else { Failure::Other }
}

/// The cancellation reason codes of a cancelled transaction (`None` for items that were fine),
/// in the order of its items; empty for any other error.
pub(crate) fn cancellation_reasons<E: 'static>(err: &E) -> Vec<&str> {
    match (err as &dyn Any).downcast_ref::<TransactWriteItemsError>() {
        Some(TransactWriteItemsError::TransactionCanceledException(cancelled)) => {
            cancelled.cancellation_reasons().iter().map(|r| r.code().unwrap_or("None")).collect()
        }
        _ => Vec::new(),
    }
}

pub(crate) fn failure_of<E>(err: &SdkError<E, HttpResponse>) -> Failure
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    match err {
        SdkError::TimeoutError(_) | SdkError::DispatchFailure(_) | SdkError::ResponseError(_) => {
            Failure::Transient
        }
        SdkError::ServiceError(service) => classify(
            service.raw().status().as_u16(),
            service.err().code(),
            &cancellation_reasons(service.err()),
        ),
        _ => Failure::Other,
    }
}

pub(crate) fn client_settings(
    builder: aws_sdk_dynamodb::config::Builder,
) -> aws_sdk_dynamodb::config::Builder {
    builder
        .timeout_config(DYNAMODB.timeouts())
        .retry_config(DYNAMODB.retries())
        .retry_classifier(RetryTransientWrites)
}

/// The SDK retries throttling, timeouts and 5xx by itself; this adds what it does not know is
/// transient: a transaction cancelled only because it met another one, and a single write that
/// met a transaction.
#[derive(Debug)]
struct RetryTransientWrites;

impl ClassifyRetry for RetryTransientWrites {
    fn classify_retry(&self, ctx: &InterceptorContext) -> RetryAction {
        let Some(Err(err)) = ctx.output_or_error() else {
            return RetryAction::NoActionIndicated;
        };
        let Some(err) = err.as_operation_error() else {
            return RetryAction::NoActionIndicated;
        };
        let failure = if let Some(e) = err.downcast_ref::<TransactWriteItemsError>() {
            classify(400, e.code(), &cancellation_reasons(e))
        } else if let Some(code) = err
            .downcast_ref::<PutItemError>()
            .and_then(|e| e.code())
            .or_else(|| err.downcast_ref::<UpdateItemError>().and_then(|e| e.code()))
            .or_else(|| err.downcast_ref::<DeleteItemError>().and_then(|e| e.code()))
        {
            classify(400, Some(code), &[])
        } else {
            return RetryAction::NoActionIndicated;
        };
        match failure {
            Failure::Transient => RetryAction::transient_error(),
            Failure::Condition | Failure::Other => RetryAction::NoActionIndicated,
        }
    }

    fn name(&self) -> &'static str {
        "transaction conflicts"
    }
}

#[cfg(test)]
mod tests {
    use aws_sdk_dynamodb::types::CancellationReason;
    use aws_sdk_dynamodb::types::error::TransactionCanceledException;

    use super::*;

    /// `TransactWriteItems` cancelled with these reasons, as DynamoDB answers it.
    fn cancelled(reasons: &[&str]) -> TransactWriteItemsError {
        let mut e = TransactionCanceledException::builder().message(format!(
            "Transaction cancelled, please refer cancellation reasons for specific reasons [{}]",
            reasons.join(", ")
        ));
        for code in reasons {
            e = e.cancellation_reasons(CancellationReason::builder().code(*code).build());
        }
        TransactWriteItemsError::TransactionCanceledException(e.build())
    }

    fn classify_tx(reasons: &[&str]) -> Failure {
        let err = cancelled(reasons);
        classify(400, err.code(), &cancellation_reasons(&err))
    }

    #[test]
    fn a_failed_condition_is_the_rules_answer() {
        assert_eq!(classify_tx(&["ConditionalCheckFailed", "None", "None"]), Failure::Condition);
        assert_eq!(
            classify_tx(&["None", "None", "None", "None", "ConditionalCheckFailed"]),
            Failure::Condition
        );
        assert_eq!(classify(400, Some("ConditionalCheckFailedException"), &[]), Failure::Condition);
    }

    #[test]
    fn a_failed_condition_wins_over_a_conflict_elsewhere() {
        assert_eq!(classify_tx(&["TransactionConflict", "ConditionalCheckFailed"]), Failure::Condition);
    }

    #[test]
    fn conflicts_and_throttling_are_transient_never_already_used() {
        assert_eq!(classify_tx(&["None", "TransactionConflict", "None"]), Failure::Transient);
        assert_eq!(classify_tx(&["ThrottlingError", "None"]), Failure::Transient);
        assert_eq!(classify_tx(&["ProvisionedThroughputExceeded"]), Failure::Transient);
        assert_eq!(classify(400, Some("TransactionConflictException"), &[]), Failure::Transient);
        assert_eq!(classify(400, Some("ThrottlingException"), &[]), Failure::Transient);
        assert_eq!(classify(400, Some("ProvisionedThroughputExceededException"), &[]), Failure::Transient);
        assert_eq!(classify(500, Some("InternalServerError"), &[]), Failure::Transient);
        assert_eq!(classify(503, None, &[]), Failure::Transient);
    }

    #[test]
    fn validation_errors_are_bugs_not_outages() {
        assert_eq!(classify(400, Some("ValidationException"), &[]), Failure::Other);
        assert_eq!(classify_tx(&["ValidationError", "None"]), Failure::Other);
        assert_eq!(classify(400, Some("ResourceNotFoundException"), &[]), Failure::Other);
    }

    #[test]
    fn reasons_are_read_only_from_cancelled_transactions() {
        let err = PutItemError::ConditionalCheckFailedException(
            aws_sdk_dynamodb::types::error::ConditionalCheckFailedException::builder().build(),
        );
        assert!(cancellation_reasons(&err).is_empty());
        assert_eq!(
            cancellation_reasons(&cancelled(&["None", "TransactionConflict"])),
            ["None", "TransactionConflict"]
        );
    }
}
