//! The emails the dashboard sends. Each message has a text and an HTML body; values are escaped
//! in HTML. The sender address is configuration (`SENDER_ADDRESS`).

use aws_sdk_ses::Client;
use aws_sdk_ses::types::{Body, Content, Destination, Message};
use call_budget::SES;

/// The product name used in subjects and the authenticator app.
pub const PRODUCT: &str = "MSP Dashboard";

#[derive(Clone, Debug)]
pub struct Mailer {
    client: Client,
    sender: String,
    /// Set for a function that declares it sends no mail: every send is refused.
    refuses: bool,
}

#[derive(Debug, thiserror::Error)]
#[error("sending email failed: {0}")]
pub struct MailError(String);

/// One email, ready to send.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Email {
    pub subject: String,
    pub text: String,
    pub html: String,
}

fn escape(value: &str) -> String {
    value.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

fn compose(subject: String, greeting_name: &str, paragraphs: &[String]) -> Email {
    let text = format!("Hello {greeting_name},\n\n{}\n\n{PRODUCT}\n", paragraphs.join("\n\n"));
    let html_paragraphs: String = paragraphs.iter().map(|p| format!("<p>{}</p>", escape(p))).collect();
    let html = format!(
        "<!DOCTYPE html><html><body style=\"font-family:sans-serif\"><p>Hello {},</p>{html_paragraphs}<p>{PRODUCT}</p></body></html>",
        escape(greeting_name)
    );
    Email { subject, text, html }
}

impl Email {
    /// The code that proves the user reads this mailbox, before authenticator setup.
    pub fn verification_code(name: &str, code: &str, valid_minutes: i64) -> Email {
        compose(
            format!("Your {PRODUCT} verification code: {code}"),
            name,
            &[
                format!(
                    "Your verification code is {code}. Enter it in the dashboard to continue setting up two-factor authentication."
                ),
                format!(
                    "The code is valid for {valid_minutes} minutes. If you did not ask for it, someone may know your password: change it and tell your administrator."
                ),
            ],
        )
    }

    pub fn two_factor_activated(name: &str) -> Email {
        compose(
            format!("Two-factor authentication is now active on your {PRODUCT} login"),
            name,
            &[
                "Two-factor authentication was activated for your login. From now on you will enter a passcode from your authenticator app when you log in.".into(),
                "If this was not you, contact your administrator at once.".into(),
            ],
        )
    }

    pub fn recovery_codes_replaced(name: &str) -> Email {
        compose(
            format!("Your {PRODUCT} recovery codes were replaced"),
            name,
            &[
                "A new set of recovery codes was just created for your account, confirmed with a code from your authenticator app. The old codes no longer work.".into(),
                "If this was not you, contact your administrator at once.".into(),
            ],
        )
    }

    pub fn recovery_code_used(name: &str, remaining: usize) -> Email {
        compose(
            format!("A recovery code was used to log in to {PRODUCT}"),
            name,
            &[
                format!("A recovery code was just used to log in to your account. You have {remaining} recovery codes left."),
                "If this was not you, contact your administrator at once. If you lost your phone, ask a colleague with access to User Accounts to reset your 2FA.".into(),
            ],
        )
    }
}

impl Email {
    /// The link that verifies a login from a new place.
    pub fn ip_verification_link(name: &str, link: &str, client_ip: &str, valid_hours: i64) -> Email {
        compose(
            format!("A login to your {PRODUCT} account from a new location is waiting for you"),
            name,
            &[
                format!(
                    "Someone just logged in to your account with your password from a new location (IP address {client_ip})."
                ),
                format!("If it was you, open this link to confirm it: {link}"),
                format!(
                    "The link works once and for {valid_hours} hours. If it was not you, do not open it: change your password and tell your administrator."
                ),
            ],
        )
    }

    /// Failed logins from places this user has not logged in from reached the limit.
    pub fn logins_from_new_places_locked(name: &str, until: &str) -> Email {
        compose(
            format!("Logins to your {PRODUCT} account from new places are paused"),
            name,
            &[
                "There were many failed attempts to log in to your account from places you have not logged in from before, so logins from new places are paused until ".to_owned() + until + ".",
                "You can still log in from your usual places and from browsers you have logged in with before.".to_owned(),
                "If these attempts were not you, someone may know your email address: use a strong password and tell your administrator.".to_owned(),
            ],
        )
    }

    pub fn new_location_verified(name: &str, range: &str) -> Email {
        compose(
            format!("A new location was verified for your {PRODUCT} login"),
            name,
            &[
                format!("Logins from the network {range} are now trusted for your account."),
                "If this was not you, contact your administrator at once.".to_owned(),
            ],
        )
    }

    /// A colleague changed this user's 2FA or IP verification from User Accounts; `done` says
    /// what happened ("Two-factor authentication was disabled").
    pub fn changed_by_administrator(name: &str, done: &str, administrator: &str, consequence: &str) -> Email {
        compose(
            format!("{done} for your {PRODUCT} login"),
            name,
            &[
                format!("{done} for your login by {administrator}, from User Accounts."),
                consequence.to_owned(),
                "If you did not expect this, contact your administrator.".to_owned(),
            ],
        )
    }
}

impl Mailer {
    /// The same mailer, refusing every send (as IAM would without `ses:SendEmail`).
    pub fn refusing(self) -> Self {
        Mailer { refuses: true, ..self }
    }

    /// Builds the client from the environment (`AWS_ENDPOINT_URL_SES` points it at a local server).
    pub async fn from_env(sender: impl Into<String>) -> Self {
        Mailer::connect(&aws_config::load_from_env().await, sender)
    }

    /// The same, from an AWS configuration already loaded (a function loads it once), with the
    /// time budget of `call_budget::SES`.
    pub fn connect(sdk: &aws_config::SdkConfig, sender: impl Into<String>) -> Self {
        let config = aws_sdk_ses::config::Builder::from(sdk)
            .timeout_config(SES.timeouts())
            .retry_config(SES.retries())
            .build();
        Mailer { client: Client::from_conf(config), sender: sender.into(), refuses: false }
    }

    /// The same mailer reached through another endpoint (tests put a fault-injecting proxy there),
    /// with its own retry budget (the SDK shares one per partition across a process).
    pub fn via(&self, endpoint_url: &str) -> Self {
        let partition = aws_sdk_ses::config::retry::RetryPartition::new(format!("ses via {endpoint_url}"));
        let config =
            self.client.config().to_builder().endpoint_url(endpoint_url).retry_partition(partition).build();
        Mailer { client: Client::from_conf(config), ..self.clone() }
    }

    pub async fn send(&self, to: &str, email: &Email) -> Result<(), MailError> {
        if self.refuses {
            return Err(MailError("this function does not declare that it sends mail".into()));
        }
        let content = |data: &str| Content::builder().data(data).charset("UTF-8").build();
        let content = |data: &str| content(data).map_err(|e| MailError(e.to_string()));
        let message = Message::builder()
            .subject(content(&email.subject)?)
            .body(Body::builder().text(content(&email.text)?).html(content(&email.html)?).build())
            .build();
        self.client
            .send_email()
            .source(&self.sender)
            .destination(Destination::builder().to_addresses(to).build())
            .message(message)
            .send()
            .await
            .map_err(|e| MailError(aws_sdk_ses::error::DisplayErrorContext(&e).to_string()))?;
        // The recipient is personal data and the subject may hold a code: log neither.
        tracing::info!("email sent");
        Ok(())
    }

    /// Sends a notice the user is owed but the request does not wait on: a failure is only
    /// logged, with the kind of `notice`.
    pub async fn send_notice(&self, to: &str, email: &Email, notice: &str) {
        if let Err(err) = self.send(to, email).await {
            tracing::error!(error = %err, notice, "could not send a notice");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn html_bodies_escape_names() {
        let email = Email::two_factor_activated("<script>Eve</script>");
        assert!(email.html.contains("&lt;script&gt;Eve"));
        assert!(!email.html.contains("<script>"));
        assert!(email.text.contains("<script>Eve</script>"));
    }

    #[test]
    fn the_code_is_in_subject_and_both_bodies() {
        let email = Email::verification_code("Sam", "123456", 15);
        assert!(email.subject.contains("123456"));
        assert!(email.text.contains("123456") && email.html.contains("123456"));
        assert!(email.text.contains("15 minutes"));
    }
}
