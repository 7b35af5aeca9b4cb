//! General Settings: account-wide 2FA, the enforcement date, IP address verification.

use api::ApiError;
use api::accounts::Settings;
use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::call::call;
use crate::logic::{date_input_value, parse_date};
use crate::request::Request;

use super::{StepUp, StepUpField};

/// The settings as the form holds them; `None` for a date that is not a day of the calendar (no
/// date: 2FA is not required for remote sessions).
fn typed_settings(account_wide_2fa: bool, date: &str, ip_verification: bool) -> Option<Settings> {
    let remote_2fa_required_from = if date.is_empty() { None } else { Some(parse_date(date)?) };
    Some(Settings { account_wide_2fa, remote_2fa_required_from, ip_verification })
}

/// The form's fields and what it shows besides them.
#[derive(Clone, Copy)]
struct SettingsForm {
    account_wide: RwSignal<bool>,
    date: RwSignal<String>,
    ip_verification: RwSignal<bool>,
    /// Account-wide 2FA as saved, to warn before it is switched on.
    saved_wide: RwSignal<bool>,
    /// The form appears once the current settings are in, so nothing typed is overwritten.
    loaded: RwSignal<bool>,
    status: RwSignal<Option<String>>,
    error: RwSignal<Option<String>>,
    step_up: StepUp,
}

impl SettingsForm {
    fn new() -> Self {
        SettingsForm {
            account_wide: RwSignal::new(false),
            date: RwSignal::new(String::new()),
            ip_verification: RwSignal::new(true),
            saved_wide: RwSignal::new(false),
            loaded: RwSignal::new(false),
            status: RwSignal::new(None),
            error: RwSignal::new(None),
            step_up: StepUp::new(),
        }
    }

    fn show(self, s: Settings) {
        self.loaded.set(true);
        self.account_wide.set(s.account_wide_2fa);
        self.saved_wide.set(s.account_wide_2fa);
        self.date.set(s.remote_2fa_required_from.map(date_input_value).unwrap_or_default());
        self.ip_verification.set(s.ip_verification);
    }

    fn load(self) {
        spawn_local(async move {
            match call(api::accounts::GetSettings {}).await {
                Ok(s) => self.show(s),
                Err(e) => self.error.set(Some(e.to_string())),
            }
        });
    }

    /// Saves what the form holds, after a step-up if the server asks for one.
    fn save(self) -> Request {
        let send = move || {
            self.status.set(None);
            let date = self.date.get_untracked();
            let typed = typed_settings(
                self.account_wide.get_untracked(),
                &date,
                self.ip_verification.get_untracked(),
            );
            async move {
                let settings =
                    typed.ok_or_else(|| ApiError::BadRequest { message: "Choose a valid date.".into() })?;
                self.step_up.run(|| call(api::accounts::SaveSettings { settings })).await
            }
        };
        Request::new(self.error, send, move |answer| {
            // `None`: the form now asks for a password or passcode before it saves.
            if let Some(s) = answer? {
                self.show(s);
                self.status.set(Some("Settings saved.".into()));
            }
            Ok(())
        })
    }
}

#[component]
pub(super) fn GeneralSettings() -> impl IntoView {
    let form = SettingsForm::new();
    form.load();
    // `<Show>` spelled out (its generic children code is large): the form is built once the
    // settings are in, not again when they are saved.
    let ready = Memo::new(move |_| form.loaded.get());
    view! {
        {move || if ready.get() {
            settings_form(form).into_any()
        } else {
            view! { <p class="muted">"Loading…"</p> }.into_any()
        }}
        {move || form.error.get().map(|e| view! { <p class="error" role="alert">{e}</p> })}
    }
}

fn settings_form(form: SettingsForm) -> impl IntoView {
    let SettingsForm { account_wide, date, ip_verification, saved_wide, step_up, .. } = form;
    let save = form.save();
    view! {
        <form class="settings" on:submit=save.on_submit()>
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
                prop:value=crate::field_value(date)
                on:input=crate::field_input(date) />
            <label class="check">
                <input type="checkbox" prop:checked=move || ip_verification.get()
                    on:change=move |ev| ip_verification.set(event_target_checked(&ev)) />
                " IP address verification"
            </label>
            <StepUpField step_up />
            <div class="row"><button class="primary" type="submit" disabled=move || save.busy()>"Save settings"</button></div>
            {move || form.status.get().map(|s| view! { <p role="status">{s}</p> })}
        </form>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_form_sends_a_date_only_if_it_is_a_day() {
        let saved = typed_settings(true, "2026-12-28", false).unwrap();
        assert_eq!(saved.remote_2fa_required_from, Some(1_798_416_000));
        assert!(saved.account_wide_2fa && !saved.ip_verification);
        assert_eq!(typed_settings(false, "", true).unwrap().remote_2fa_required_from, None);
        assert!(typed_settings(false, "2026-02-31", true).is_none());
    }
}
