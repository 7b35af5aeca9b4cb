//! Take Control / Remote Background Management: the prompt before a session, and the session panel.

use api::remote::{DeviceView, RemoteKind, RemoteStart, StartedSession};
use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::call::call;
use crate::logic::{format_time, prompt_text};
use crate::request::Request;
use crate::{Screen, focus_first};

/// A start the server answered with "activation required".
#[derive(Clone, Debug, PartialEq)]
pub struct PendingStart {
    pub device: DeviceView,
    pub kind: RemoteKind,
    pub deferral_allowed: bool,
    pub deferral_until: Option<i64>,
}

/// What the remote-access area shows.
#[derive(Clone, Debug, PartialEq)]
pub enum RemoteState {
    Idle,
    /// Waiting for the server's answer: further clicks start nothing.
    Starting,
    Prompt(PendingStart),
    Session {
        device: DeviceView,
        session: StartedSession,
    },
}

/// Asks the server to start a session; it decides whether the prompt comes first.
pub fn request_start(
    state: RwSignal<RemoteState>,
    error: RwSignal<Option<String>>,
    device: DeviceView,
    kind: RemoteKind,
    defer: bool,
) {
    let before = state.get_untracked();
    if before == RemoteState::Starting {
        return;
    }
    state.set(RemoteState::Starting);
    error.set(None);
    spawn_local(async move {
        match call(api::remote::StartSession { device_id: device.id.clone(), kind, defer }).await {
            Ok(RemoteStart::Started(session)) => state.set(RemoteState::Session { device, session }),
            Ok(RemoteStart::ActivationRequired { deferral_allowed, deferral_until }) => state
                .set(RemoteState::Prompt(PendingStart { device, kind, deferral_allowed, deferral_until })),
            Err(err) => {
                // A session already running stays on screen; a prompt closes.
                state.set(if let RemoteState::Session { .. } = before { before } else { RemoteState::Idle });
                error.set(Some(err.to_string()));
            }
        }
    });
}

/// Activate Now: the server ends the session, and the next login sets 2FA up.
fn activate_now(error: RwSignal<Option<String>>) -> Request {
    Request::new(
        error,
        || call(api::remote::ActivateNow {}),
        |answer| {
            answer?;
            let crate::Nav { screen, notice } = crate::nav();
            notice.set(Some(
            "Log in again to set up two-factor authentication. You will be back in the dashboard right after.".into(),
        ));
            screen.set(Screen::Login);
            Ok(())
        },
    )
}

#[component]
pub fn Prompt(
    pending: PendingStart,
    state: RwSignal<RemoteState>,
    error: RwSignal<Option<String>>,
) -> impl IntoView {
    // "Activate Now" takes keyboard focus once the prompt is shown.
    focus_first("[aria-labelledby=prompt-title] button.primary");
    let allowed = pending.deferral_allowed;
    // One choice at a time: a double click starts one session, or one logout.
    let activate = activate_now(error);
    let busy = move || activate.busy();
    let (device, kind) = (pending.device.clone(), pending.kind);
    let later = move |_| {
        if activate.idle() {
            request_start(state, error, device.clone(), kind, true);
        }
    };
    // Cancel, the neutral choice: no session and nothing changes. Escape means the same.
    let close = move |_| state.set(RemoteState::Idle);
    let on_key = move |ev: leptos::ev::KeyboardEvent| {
        if ev.key() == "Escape" {
            ev.prevent_default();
            state.set(RemoteState::Idle);
        }
        crate::keep_tab_inside(&ev);
    };
    view! {
        <div class="backdrop">
            <div class="dialog" role="dialog" aria-modal="true" aria-labelledby="prompt-title"
                aria-describedby="prompt-text" on:keydown=on_key>
                <h2 id="prompt-title">"Enable Two-Factor Authentication"</h2>
                <p class="muted">{format!("{} on {}", pending.kind.label(), pending.device.name)}</p>
                <p id="prompt-text">{prompt_text(pending.deferral_allowed, pending.deferral_until)}</p>
                <p class="warning" role="note">"Important! To activate 2FA, you need to be logging into the Dashboard with a valid email address, and you need your smartphone to install an ‘authenticator’ app. Activate Now logs you out so that you can set it up."</p>
                <div class="row">
                    <button class="primary" type="button" on:click=move |_| activate.send() disabled=busy>"Activate Now"</button>
                    {allowed.then(|| view! {
                        <button type="button" on:click=later disabled=busy>"Activate Later"</button>
                    })}
                    <button type="button" on:click=close disabled=busy>"Cancel"</button>
                </div>
            </div>
        </div>
    }
}

#[component]
pub fn SessionPanel(
    device: DeviceView,
    session: StartedSession,
    state: RwSignal<RemoteState>,
) -> impl IntoView {
    view! {
        <section class="panel session" aria-label="Remote session" role="status">
            <h2>{format!("{} session", session.kind.label())}</h2>
            <dl>
                <dt>"Device"</dt><dd data-testid="session-device">{device.name.clone()}" ("{device.customer.clone()}")"</dd>
                <dt>"Kind"</dt><dd data-testid="session-kind">{session.kind.label()}</dd>
                <dt>"Started"</dt><dd>{format_time(session.started_at)}</dd>
            </dl>
            <p class="muted small">"Remote control is simulated in this build: the session was authorised and recorded."</p>
            <button type="button" on:click=move |_| state.set(RemoteState::Idle)>"End session"</button>
        </section>
    }
}
