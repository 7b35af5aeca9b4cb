use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::Screen;
use crate::call::call;

/// The second login step for users with active 2FA.
#[component]
pub fn Passcode() -> impl IntoView {
    let crate::Nav { screen, notice } = crate::nav();
    let code = RwSignal::new(String::new());
    let error = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);

    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if busy.get_untracked() {
            return;
        }
        busy.set(true);
        error.set(None);
        spawn_local(async move {
            let result = call(api::auth::SubmitPasscode { code: code.get_untracked() }).await;
            busy.set(false);
            code.set(String::new());
            match result {
                Ok(accepted) => {
                    if let Some(left) = accepted.recovery_codes_left {
                        notice.set(Some(format!(
                            "You logged in with a recovery code. You have {left} recovery codes left."
                        )));
                    }
                    screen.set(Screen::Dashboard(accepted.me));
                }
                Err(err @ api::ApiError::LockedOut { .. }) => {
                    notice.set(Some(err.to_string()));
                    screen.set(Screen::Login);
                }
                Err(err) => error.set(Some(err.to_string())),
            }
        });
    };
    let start_over = move |_| {
        spawn_local(async move {
            let _ = call(api::auth::Logout {}).await;
            screen.set(Screen::Login);
        });
    };

    // `<Show>` spelled out (its generic children code is large): the alert is built when an error
    // appears and then only its text follows the error.
    let has_error = Memo::new(move |_| error.get().is_some());

    view! {
        <form class="card login" on:submit=submit novalidate>
            <h1>"Two-factor authentication"</h1>
            <p>"Enter the 6-digit passcode from your authenticator app."</p>
            <label for="passcode">"Passcode"</label>
            <input id="passcode" autocomplete="one-time-code" required autofocus
                prop:value=move || code.get()
                on:input=move |ev| code.set(event_target_value(&ev)) />
            <p class="muted small">
                "Lost your phone? Enter one of your recovery codes instead, or ask a colleague with access to User Accounts to reset your 2FA."
            </p>
            <button class="primary wide" type="submit" disabled=move || busy.get()>
                {move || if busy.get() { "Checking…" } else { "Verify" }}
            </button>
            {move || has_error.get().then(|| view! {
                <p class="error" role="alert">{move || error.get().unwrap_or_default()}</p>
            })}
            <button type="button" class="link" on:click=start_over>"Back to login"</button>
        </form>
    }
}
