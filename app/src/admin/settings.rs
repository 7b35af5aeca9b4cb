//! General Settings: account-wide 2FA, the enforcement date, IP address verification.

use api::accounts::Settings;
use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::call::call;
use crate::logic::{date_input_value, parse_date};

use super::{StepUp, StepUpField};

#[component]
pub(super) fn GeneralSettings() -> impl IntoView {
    let account_wide = RwSignal::new(false);
    let date = RwSignal::new(String::new());
    let ip_verification = RwSignal::new(true);
    let status = RwSignal::new(None::<String>);
    let error = RwSignal::new(None::<String>);
    let step_up = StepUp::new();
    // The form appears once the current settings are in, so nothing typed is overwritten.
    let loaded = RwSignal::new(false);
    // Account-wide 2FA as saved, to warn before it is switched on.
    let saved_wide = RwSignal::new(false);
    let show = move |s: Settings| {
        loaded.set(true);
        account_wide.set(s.account_wide_2fa);
        saved_wide.set(s.account_wide_2fa);
        date.set(s.remote_2fa_required_from.map(date_input_value).unwrap_or_default());
        ip_verification.set(s.ip_verification);
    };
    spawn_local(async move {
        match call(api::accounts::GetSettings {}).await {
            Ok(s) => show(s),
            Err(e) => error.set(Some(e.to_string())),
        }
    });
    let busy = RwSignal::new(false);
    let save = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if busy.get_untracked() {
            return;
        }
        error.set(None);
        status.set(None);
        let raw = date.get_untracked();
        let from = if raw.is_empty() { None } else { parse_date(&raw) };
        if !raw.is_empty() && from.is_none() {
            error.set(Some("Choose a valid date.".into()));
            return;
        }
        let settings = Settings {
            account_wide_2fa: account_wide.get_untracked(),
            remote_2fa_required_from: from,
            ip_verification: ip_verification.get_untracked(),
        };
        busy.set(true);
        spawn_local(async move {
            let result = step_up.run(|| call(api::accounts::SaveSettings { settings })).await;
            busy.set(false);
            match result {
                Ok(Some(s)) => {
                    show(s);
                    status.set(Some("Settings saved.".into()));
                }
                // The form now asks for a password or passcode before it saves.
                Ok(None) => {}
                Err(e) => error.set(Some(e.to_string())),
            }
        });
    };
    // `<Show>` spelled out (its generic children code is large): the form is built once the
    // settings are in, not again when they are saved.
    let ready = Memo::new(move |_| loaded.get());
    view! {
        {move || if ready.get() {
            view! {
                <form class="settings" on:submit=save>
                    <label class="check">
                        <input type="checkbox" prop:checked=move || account_wide.get()
                            on:change=move |ev| account_wide.set(event_target_checked(&ev)) />
                        " Two-factor authentication for every user (account-wide)"
                    </label>
                    {move || (account_wide.get() && !saved_wide.get()).then(|| view! {
                        <p class="warning" role="note">"When you save, every other user who has not activated 2FA is logged out, and everyone who has not, you included, must set it up at their next login."</p>
                    })}
                    <label for="enforce-date">"2FA required for Take Control and Remote Background Management from (00:00 UTC on that day)"</label>
                    <input id="enforce-date" type="date"
                        prop:value=move || date.get()
                        on:input=move |ev| date.set(event_target_value(&ev)) />
                    <label class="check">
                        <input type="checkbox" prop:checked=move || ip_verification.get()
                            on:change=move |ev| ip_verification.set(event_target_checked(&ev)) />
                        " IP address verification"
                    </label>
                    <StepUpField step_up />
                    <div class="row"><button class="primary" type="submit" disabled=move || busy.get()>"Save settings"</button></div>
                    {move || status.get().map(|s| view! { <p role="status">{s}</p> })}
                </form>
            }
            .into_any()
        } else {
            view! { <p class="muted">"Loading…"</p> }.into_any()
        }}
        {move || error.get().map(|e| view! { <p class="error" role="alert">{e}</p> })}
    }
}
