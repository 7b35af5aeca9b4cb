use api::ApiError;
use api::auth::PasscodeAccepted;
use leptos::prelude::*;

use crate::call::call;
use crate::request::{Request, alert};
use crate::{Nav, Screen};

/// Where the server's answer to a passcode leads: the dashboard, or back to the login when locked
/// out; any other error stays on this screen.
fn after_passcode(answer: Result<PasscodeAccepted, ApiError>) -> Result<(), ApiError> {
    let Nav { screen, notice } = crate::nav();
    match answer {
        Ok(accepted) => {
            if let Some(left) = accepted.recovery_codes_left {
                notice.set(Some(format!(
                    "You logged in with a recovery code. You have {left} recovery codes left."
                )));
            }
            screen.set(Screen::Dashboard(accepted.me));
        }
        Err(err @ ApiError::LockedOut { .. }) => {
            notice.set(Some(err.to_string()));
            screen.set(Screen::Login);
        }
        Err(err) => return Err(err),
    }
    Ok(())
}

/// The second login step for users with active 2FA.
#[component]
pub fn Passcode() -> impl IntoView {
    let code = RwSignal::new(String::new());
    let error = RwSignal::new(None::<String>);
    let verify = Request::new(
        error,
        move || call(api::auth::SubmitPasscode { code: code.get_untracked() }),
        move |answer| {
            code.set(String::new());
            after_passcode(answer)
        },
    );

    view! {
        <form class="card login" on:submit=verify.on_submit() novalidate>
            <h1>"Two-factor authentication"</h1>
            <p>"Enter the 6-digit passcode from your authenticator app."</p>
            <label for="passcode">"Passcode"</label>
            <input id="passcode" autocomplete="one-time-code" required autofocus
                prop:value=crate::field_value(code)
                on:input=crate::field_input(code) />
            <p class="muted small">
                "Lost your phone? Enter one of your recovery codes instead, or ask a colleague with access to User Accounts to reset your 2FA."
            </p>
            <button class="primary wide" type="submit" disabled=move || verify.busy()>
                {move || if verify.busy() { "Checking…" } else { "Verify" }}
            </button>
            {alert(error)}
            <button type="button" class="link" on:click=move |_| crate::log_out()>"Back to login"</button>
        </form>
    }
}
