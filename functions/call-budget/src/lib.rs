//! How long one AWS SDK call may take and how often it is tried, for each AWS service the
//! functions call, with its reason. A Lambda has 10 seconds (`infra/template.yaml`): each budget
//! ends a call in time for the function to answer "try again" (and to undo what it started)
//! instead of being cut off.

use std::time::Duration;

use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;

/// The AWS services answer in milliseconds; connecting takes longer than a second only when one
/// is down.
const CONNECT: Duration = Duration::from_secs(1);

/// Each DynamoDB call gets 3 attempts of at most 2 s and 5 s in all, so an outage is answered "try
/// again" well within a Lambda's 10 seconds.
pub const DYNAMODB: CallBudget = CallBudget {
    attempts: 3,
    attempt: Duration::from_secs(2),
    total: Duration::from_secs(5),
    first_backoff: Duration::from_millis(20),
    max_backoff: Duration::from_millis(500),
};

/// SES answers in well under a second: 2 attempts of at most 2 s, 4 s in all, keep a failed send
/// inside a Lambda's 10 seconds with time left to withdraw what the email carried.
pub const SES: CallBudget = CallBudget {
    attempts: 2,
    attempt: Duration::from_secs(2),
    total: Duration::from_secs(4),
    first_backoff: Duration::from_millis(50),
    max_backoff: Duration::from_millis(500),
};

/// A cold start waits for Secrets Manager, so it gives up within a few seconds (3 attempts of at
/// most 2 s, 5 s in all) rather than leave the function hanging; between tries, the SDK's own
/// pauses (1 s, growing).
pub const SECRETS_MANAGER: CallBudget = CallBudget {
    attempts: 3,
    attempt: Duration::from_secs(2),
    total: Duration::from_secs(5),
    first_backoff: Duration::from_secs(1),
    max_backoff: Duration::from_secs(20),
};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CallBudget {
    /// Tries of one call, the first included.
    pub attempts: u32,
    /// The limit of each try.
    pub attempt: Duration,
    /// The limit of all tries together.
    pub total: Duration,
    /// The pause before the first retry; the SDK grows it, with jitter, up to `max_backoff`.
    pub first_backoff: Duration,
    pub max_backoff: Duration,
}

impl CallBudget {
    pub fn timeouts(self) -> TimeoutConfig {
        TimeoutConfig::builder()
            .connect_timeout(CONNECT)
            .operation_attempt_timeout(self.attempt)
            .operation_timeout(self.total)
            .build()
    }

    pub fn retries(self) -> RetryConfig {
        RetryConfig::standard()
            .with_max_attempts(self.attempts)
            .with_initial_backoff(self.first_backoff)
            .with_max_backoff(self.max_backoff)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_budget_becomes_the_sdk_settings() {
        let timeouts = DYNAMODB.timeouts();
        assert_eq!(timeouts.connect_timeout(), Some(CONNECT));
        assert_eq!(timeouts.operation_attempt_timeout(), Some(Duration::from_secs(2)));
        assert_eq!(timeouts.operation_timeout(), Some(Duration::from_secs(5)));
        let retries = DYNAMODB.retries();
        assert_eq!(retries.max_attempts(), 3);
        assert_eq!(retries.initial_backoff(), Duration::from_millis(20));
        assert_eq!(retries.max_backoff(), Duration::from_millis(500));
    }
}
