//! IP address verification: the waiting login, and the page an emailed link opens.

use std::time::Duration;

use api::auth::LoginOutcome;
use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::Screen;
use crate::call::call;
use crate::logic::next_poll_ms;
use crate::request::Request;

/// Where a login outcome leads.
pub fn screen_for(outcome: LoginOutcome) -> Screen {
    match outcome {
        LoginOutcome::SignedIn(me) => Screen::Dashboard(me),
        LoginOutcome::PasscodeRequired => Screen::Passcode,
        LoginOutcome::ActivationRequired { email } => Screen::Activation { email, signed_in: false },
        LoginOutcome::IpVerificationRequired { email } => Screen::IpWaiting { email },
    }
}

/// Asks whether the link was opened, less and less often (`next_poll_ms`), while this screen is
/// showing.
fn poll(screen: RwSignal<Screen>, notice: RwSignal<Option<String>>, previous_ms: Option<u32>) {
    let delay = next_poll_ms(previous_ms);
    set_timeout(
        move || {
            if !matches!(screen.get_untracked(), Screen::IpWaiting { .. }) {
                return;
            }
            spawn_local(async move {
                match call(api::auth::LoginStatus {}).await {
                    Ok(LoginOutcome::IpVerificationRequired { .. }) => poll(screen, notice, Some(delay)),
                    Ok(next) => screen.set(screen_for(next)),
                    Err(err) => {
                        notice.set(Some(err.to_string()));
                        screen.set(Screen::Login);
                    }
                }
            });
        },
        Duration::from_millis(u64::from(delay)),
    );
}

#[component]
pub fn IpWaiting(email: String) -> impl IntoView {
    let crate::Nav { screen, notice } = crate::nav();
    let message = RwSignal::new(None::<String>);
    let error = RwSignal::new(None::<String>);
    poll(screen, notice, None);
    let resend = Request::new(
        error,
        || call(api::auth::ResendIpLink {}),
        move |answer| {
            answer?;
            message.set(Some("We sent the email again.".into()));
            Ok(())
        },
    );
    view! {
        <section class="card login" aria-labelledby="ip-title">
            <h1 id="ip-title">"Confirm it's you"</h1>
            <p>"You are logging in from a location we don't recognise. We emailed a link to " <strong>{email}</strong> "."</p>
            <p>"Open the link (on any device) to confirm this location. This page continues by itself once you have. The link works once, for 2 hours."</p>
            <p class="muted small" role="status">"Waiting for the link to be opened…"</p>
            {move || message.get().map(|m| view! { <p role="status">{m}</p> })}
            {move || error.get().map(|e| view! { <p class="error" role="alert">{e}</p> })}
            <div class="row">
                <button type="button" on:click=move |_| resend.send()>"Send the email again"</button>
                <button type="button" class="link" on:click=move |_| crate::log_out()>"Cancel and log out"</button>
            </div>
        </section>
    }
}

/// The token in `?verify-ip=...`, if this page was opened from an emailed link.
pub fn link_token() -> Option<String> {
    let search = web_sys::window()?.location().search().ok()?;
    search
        .trim_start_matches('?')
        .split('&')
        .find_map(|pair| pair.strip_prefix("verify-ip=").map(str::to_owned))
}

#[component]
pub fn VerifyIp(token: String) -> impl IntoView {
    let result = RwSignal::new(None::<Result<String, String>>);
    // The token must not stay in the address bar or the history.
    if let Some(history) = web_sys::window().and_then(|w| w.history().ok()) {
        let _ = history.replace_state_with_url(&wasm_bindgen::JsValue::NULL, "", Some("/"));
    }
    spawn_local(async move {
        result.set(Some(call(api::auth::VerifyIp { token }).await.map_err(|e| e.to_string())));
    });
    view! {
        <section class="card login" aria-labelledby="verify-title">
            <h1 id="verify-title">"Verify this location"</h1>
            {move || match result.get() {
                None => view! { <p class="muted">"Checking the link…"</p> }.into_any(),
                Some(Ok(range)) => view! {
                    <p role="status">{format!("Thank you: logins from {range} are now verified for your account.")}</p>
                    <p>"Go back to the window where you were logging in: it continues by itself."</p>
                }.into_any(),
                Some(Err(err)) => view! { <p class="error" role="alert">{err}</p> }.into_any(),
            }}
            <a class="button" href="/">"Go to the dashboard"</a>
        </section>
    }
}
