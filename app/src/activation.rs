//! The activation flow: validate the email address, set up the authenticator app, save the
//! recovery codes.

use api::ApiError;
use api::auth::Me;
use api::enroll::{AuthenticatorSetup, EnrollmentView};
use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::call::call;
use crate::logic::{recovery_codes_text, text_download_href};
use crate::request::{Request, alert};
use crate::{Screen, copy_to_clipboard};

#[derive(Clone, Debug, PartialEq)]
enum Step {
    Loading,
    Email(EnrollmentView),
    Authenticator(AuthenticatorSetup),
    RecoveryCodes { me: Me, codes: Vec<String> },
}

/// What the flow does first, from where it stands.
#[derive(Debug, PartialEq)]
enum Start {
    /// The email address is verified already: on to the authenticator app.
    Authenticator,
    /// No code was sent yet: the first one is sent straight away.
    SendCode,
    /// A code was sent: ask for it.
    AskCode,
}

impl Start {
    fn from(view: &EnrollmentView) -> Self {
        match (view.email_verified, view.code_sent) {
            (true, _) => Start::Authenticator,
            (false, false) => Start::SendCode,
            (false, true) => Start::AskCode,
        }
    }
}

/// The flow's step, and the error shown under it (every step's errors show there).
#[derive(Clone, Copy)]
struct Flow {
    step: RwSignal<Step>,
    error: RwSignal<Option<String>>,
}

impl Flow {
    fn new() -> Self {
        Flow { step: RwSignal::new(Step::Loading), error: RwSignal::new(None) }
    }

    fn show_error(self, err: ApiError) {
        self.error.set(Some(err.to_string()));
    }

    /// Asks where the flow stands and shows its first step.
    fn start(self) {
        spawn_local(async move {
            let view = match call(api::enroll::EnrollmentStatus {}).await {
                Ok(view) => view,
                Err(err) => return self.show_error(err),
            };
            match Start::from(&view) {
                Start::Authenticator => self.show_authenticator(),
                Start::SendCode => match call(api::enroll::SendEmailCode {}).await {
                    Ok(sent) => self.step.set(Step::Email(sent)),
                    Err(err) => {
                        self.show_error(err);
                        self.step.set(Step::Email(view));
                    }
                },
                Start::AskCode => self.step.set(Step::Email(view)),
            }
        });
    }

    fn show_authenticator(self) {
        spawn_local(async move {
            match call(api::enroll::BeginAuthenticator {}).await {
                Ok(setup) => self.step.set(Step::Authenticator(setup)),
                Err(err) => self.show_error(err),
            }
        })
    }

    fn step_view(self) -> AnyView {
        match self.step.get() {
            Step::Loading => view! { <p class="muted">"Loading…"</p> }.into_any(),
            Step::Email(view) => view! { <EmailStep view flow=self /> }.into_any(),
            Step::Authenticator(setup) => view! { <AuthenticatorStep setup flow=self /> }.into_any(),
            Step::RecoveryCodes { me, codes } => view! { <RecoveryStep me codes /> }.into_any(),
        }
    }
}

/// Leaves the flow: back to the dashboard if signed in (and still so), else out of the login.
fn cancel(signed_in: bool) {
    if !signed_in {
        return crate::log_out();
    }
    spawn_local(async move {
        match call(api::auth::CurrentUser {}).await {
            Ok(Some(me)) => crate::nav().screen.set(Screen::Dashboard(me)),
            _ => crate::log_out(),
        }
    });
}

#[component]
pub fn Activation(email: String, signed_in: bool) -> impl IntoView {
    let flow = Flow::new();
    flow.start();
    // `<Show>` spelled out (its generic children code is large): the help is built once, not
    // again while the flow goes on.
    let finished = Memo::new(move |_| matches!(flow.step.get(), Step::RecoveryCodes { .. }));

    view! {
        <section class="card wizard" aria-labelledby="activation-title">
            <h1 id="activation-title">"Turn on two-factor authentication"</h1>
            <p class="muted">{if signed_in { "Signed in as " } else { "Logging in as " }} <strong>{email.clone()}</strong></p>
            {move || flow.step_view()}
            {alert(flow.error)}
            {move || (!finished.get()).then(|| view! {
                <p class="muted small">"Stuck? Ask a colleague with access to User Accounts to disable 2FA for your login for now. If a colleague isn't able to help, then our customer support team will be able to help you out too."</p>
                <button type="button" class="link" on:click=move |_| cancel(signed_in)>
                    {if signed_in { "Not now" } else { "Cancel and log out" }}
                </button>
            })}
        </section>
    }
}

#[component]
fn EmailStep(view: EnrollmentView, flow: Flow) -> impl IntoView {
    let code = RwSignal::new(String::new());
    let sent_note =
        RwSignal::new(view.code_sent.then(|| format!("We sent a 6-digit code to {}.", view.email)));
    let verify = Request::new(
        flow.error,
        move || call(api::enroll::VerifyEmailCode { code: code.get_untracked() }),
        move |answer| {
            if !answer?.email_verified {
                return Err(ApiError::BadRequest { message: "That code did not verify. Try again.".into() });
            }
            flow.show_authenticator();
            Ok(())
        },
    );
    let resend = Request::new(
        flow.error,
        move || call(api::enroll::SendEmailCode {}),
        move |answer| {
            sent_note.set(Some(format!("We sent a new code to {}.", answer?.email)));
            Ok(())
        },
    );
    // One request at a time: a double click verifies once and sends one email.
    let busy = move || verify.busy() || resend.busy();
    let when_idle = move |request: Request| {
        if verify.idle() && resend.idle() {
            request.send();
        }
    };
    view! {
        <h2>"Step 1 of 2: Validate your email address"</h2>
        <p class="warning" role="note">
            "The code goes to " <strong>{view.email.clone()}</strong>
            ". This must be an address you can read. If you cannot receive email there, stop now: a colleague with access to User Accounts will have to reset your login."
        </p>
        {move || sent_note.get().map(|n| view! { <p role="status">{n}</p> })}
        <form on:submit=move |ev| { ev.prevent_default(); when_idle(verify); } novalidate>
            <label for="email-code">"Code from the email"</label>
            <input id="email-code" inputmode="numeric" autocomplete="one-time-code" maxlength="6"
                prop:value=crate::field_value(code)
                on:input=crate::field_input(code) />
            <div class="row">
                <button class="primary" type="submit" disabled=busy>"Verify email"</button>
                <button type="button" on:click=move |_| when_idle(resend) disabled=busy>"Send a new code"</button>
            </div>
        </form>
    }
}

#[component]
fn AuthenticatorStep(setup: AuthenticatorSetup, flow: Flow) -> impl IntoView {
    let code = RwSignal::new(String::new());
    let key = setup.manual_key.clone();
    let activate = Request::new(
        flow.error,
        move || call(api::enroll::ConfirmAuthenticator { code: code.get_untracked() }),
        move |answer| {
            let done = answer?;
            flow.step.set(Step::RecoveryCodes { me: done.me, codes: done.recovery_codes });
            Ok(())
        },
    );
    view! {
        <h2>"Step 2 of 2: Set up your authenticator app"</h2>
        <p>"Install an authenticator app on your smartphone if you have none yet: they are freely available in the app stores for iOS, Android, Windows Phone and any other mobile OS (for example Microsoft Authenticator, Google Authenticator or Authy). Then scan this QR code with it."</p>
        <div class="qr" role="img" aria-label="QR code for your authenticator app" inner_html=setup.qr_svg.clone()></div>
        <p>"Can't scan it? Enter this key in the app instead:"</p>
        <p class="key-row">
            <code class="manual-key" data-testid="manual-key">{setup.manual_key.clone()}</code>
            <button type="button" on:click=move |_| copy_to_clipboard(&key.replace(' ', ""))>"Copy key"</button>
        </p>
        <form on:submit=activate.on_submit() novalidate>
            <label for="totp-code">"6-digit code from the app"</label>
            <input id="totp-code" inputmode="numeric" autocomplete="one-time-code" maxlength="7"
                prop:value=crate::field_value(code)
                on:input=crate::field_input(code) />
            <button class="primary" type="submit" disabled=move || activate.busy()>"Activate"</button>
        </form>
    }
}

#[component]
fn RecoveryStep(me: Me, codes: Vec<String>) -> impl IntoView {
    let screen = crate::nav().screen;
    let saved = RwSignal::new(false);
    let text = recovery_codes_text(&me.email, &codes);
    let href = text_download_href(&text);
    view! {
        <h2>"Two-factor authentication is active"</h2>
        <p>"Save these recovery codes. Each one works once, instead of a passcode, if you lose your phone. They are shown only now."</p>
        <ul class="codes" data-testid="recovery-codes">
            {codes.iter().map(|c| view! { <li><code>{c.clone()}</code></li> }).collect_view()}
        </ul>
        <div class="row">
            <button type="button" on:click=move |_| copy_to_clipboard(&text)>"Copy codes"</button>
            <a class="button" href=href download="recovery-codes.txt">"Download codes"</a>
        </div>
        <label class="check">
            <input type="checkbox" on:change=move |ev| saved.set(event_target_checked(&ev)) />
            " I have saved my recovery codes"
        </label>
        <button class="primary" type="button" disabled=move || !saved.get()
            on:click=move |_| screen.set(Screen::Dashboard(me.clone()))>
            "Continue to the dashboard"
        </button>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_flow_starts_where_it_stands() {
        let view = |code_sent, email_verified| EnrollmentView {
            email: "sam@example.com".into(),
            code_sent,
            email_verified,
            resend_after: None,
        };
        assert_eq!(Start::from(&view(false, false)), Start::SendCode);
        assert_eq!(Start::from(&view(true, false)), Start::AskCode);
        assert_eq!(Start::from(&view(true, true)), Start::Authenticator);
        assert_eq!(Start::from(&view(false, true)), Start::Authenticator);
    }
}
