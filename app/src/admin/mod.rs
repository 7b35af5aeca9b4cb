//! Administrators: User Accounts (grid, context menu, Info section), General Settings, audit log,
//! one module per dialog. The server decides what is allowed; the menu shows its answer, disabled
//! items with the reason.

mod audit;
mod settings;
mod users;

use api::ApiError;
use leptos::prelude::*;

use crate::call::call;
use crate::{focus_first, keep_tab_inside};

/// A step-up asked for by the server: what to ask for, and what was typed.
#[derive(Clone, Copy)]
pub(super) struct StepUp {
    /// `Some((message, passcode))` once the server asked for a re-authentication.
    asked: RwSignal<Option<(String, bool)>>,
    typed: RwSignal<String>,
}

impl StepUp {
    fn new() -> Self {
        StepUp { asked: RwSignal::new(None), typed: RwSignal::new(String::new()) }
    }

    fn reset(self) {
        self.asked.set(None);
        self.typed.set(String::new());
    }

    /// Sends the step-up first if one was asked for, then `action`. When the server asks for a
    /// step-up, keeps the question and answers `Ok(None)`: the caller leaves its form open.
    async fn run<T, F>(self, action: impl FnOnce() -> F) -> Result<Option<T>, ApiError>
    where
        F: std::future::Future<Output = Result<T, ApiError>>,
    {
        if self.asked.get_untracked().is_some() {
            call(api::auth::StepUp { secret: self.typed.get_untracked() }).await?;
            self.typed.set(String::new());
        }
        match action().await {
            Ok(value) => {
                self.reset();
                Ok(Some(value))
            }
            Err(ApiError::StepUpRequired { message, passcode }) => {
                self.asked.set(Some((message, passcode)));
                focus_first("#step-up");
                Ok(None)
            }
            Err(other) => Err(other),
        }
    }
}

/// The password or passcode field of a step-up, shown once the server asked for one.
#[component]
pub(super) fn StepUpField(step_up: StepUp) -> impl IntoView {
    move || {
        step_up.asked.get().map(|(message, passcode)| {
            let (kind, mode, complete) = if passcode {
                ("text", "numeric", "one-time-code")
            } else {
                ("password", "text", "current-password")
            };
            view! {
                <label for="step-up">{message}</label>
                <input id="step-up" type=kind inputmode=mode autocomplete=complete required
                    prop:value=crate::field_value(step_up.typed)
                    on:input=crate::field_input(step_up.typed) />
            }
        })
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AdminView {
    UserAccounts,
    GeneralSettings,
    AuditLog,
}

#[component]
pub fn AdminDialog(view: AdminView, on_close: impl Fn() + Copy + Send + Sync + 'static) -> impl IntoView {
    let title = match view {
        AdminView::UserAccounts => "User Accounts",
        AdminView::GeneralSettings => "General Settings",
        AdminView::AuditLog => "Audit log",
    };
    let on_key = move |ev: leptos::ev::KeyboardEvent| {
        if ev.key() == "Escape" {
            on_close();
        }
        keep_tab_inside(&ev);
    };
    // The dialog takes the keyboard at once, so Escape closes it and Tab stays inside.
    focus_first("#admin-dialog .dialog-head button");
    view! {
        <div class="backdrop">
            <div class="dialog wide-dialog" id="admin-dialog" role="dialog" aria-modal="true" aria-labelledby="admin-title" on:keydown=on_key>
                <div class="dialog-head">
                    <h2 id="admin-title">{title}</h2>
                    <button type="button" aria-label="Close" on:click=move |_| on_close()>"✕"</button>
                </div>
                {match view {
                    AdminView::UserAccounts => view! { <users::UserAccounts /> }.into_any(),
                    AdminView::GeneralSettings => view! { <settings::GeneralSettings /> }.into_any(),
                    AdminView::AuditLog => view! { <audit::AuditLog /> }.into_any(),
                }}
            </div>
        </div>
    }
}
