use api::ApiError;
use api::auth::{Me, TwoFactorStatus};
use api::remote::{DeviceView, RemoteKind};
use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::Screen;
use crate::admin::{AdminDialog, AdminView};
use crate::call::call;
use crate::logic::{dashboard_2fa_text, recovery_codes_text, text_download_href};
use crate::remote::{Prompt, RemoteState, SessionPanel, request_start};
use crate::request::Request;

#[component]
pub fn Dashboard(me: Me) -> impl IntoView {
    let notice = crate::nav().notice;
    // Shown once, then cleared so it does not follow the user around.
    let shown_notice = notice.get_untracked();
    notice.set(None);
    // Loaded once; `None` until the answer is in. A signal set from a task, not a LocalResource
    // under <Suspense>: the same screens, without the async-resource machinery in the WASM.
    let devices = RwSignal::new(None::<Result<Vec<DeviceView>, ApiError>>);
    spawn_local(async move { devices.set(Some(call(api::remote::Devices {}).await)) });
    let remote = RwSignal::new(RemoteState::Idle);
    let remote_error = RwSignal::new(None::<String>);
    let admin = RwSignal::new(None::<AdminView>);
    // One handler for the three buttons: the WASM holds its code once.
    let open = move |view: AdminView| move |_| admin.set(Some(view));

    view! {
        <header class="topbar">
            <span class="brand">"Dashboard"</span>
            <span class="who">
                <strong data-testid="user-name">{me.name.clone()}</strong><br />
                <small data-testid="user-role">{me.role.clone()}" · "{me.account_name.clone()}</small>
            </span>
            {me.is_administrator.then(|| view! {
                <nav class="admin-menu" aria-label="Administration">
                    <button type="button" on:click=open(AdminView::UserAccounts)>"User Accounts"</button>
                    <button type="button" on:click=open(AdminView::GeneralSettings)>"General Settings"</button>
                    <button type="button" on:click=open(AdminView::AuditLog)>"Audit log"</button>
                </nav>
            })}
            <button on:click=move |_| crate::log_out()>"Log out"</button>
        </header>
        {move || admin.get().map(|view| view! {
            <AdminDialog view on_close=move || admin.set(None) />
        })}
        <main>
            {shown_notice.map(|n| view! { <p class="notice" role="status">{n}</p> })}
            <TwoFactorPanel me=me.clone() />
            {move || match remote.get() {
                RemoteState::Session { device, session } => view! { <SessionPanel device session state=remote /> }.into_any(),
                RemoteState::Prompt(pending) => view! { <Prompt pending state=remote error=remote_error /> }.into_any(),
                RemoteState::Starting => "Starting…".into_any(),
                RemoteState::Idle => ().into_any(),
            }}
            {move || remote_error.get().map(|e| view! { <p class="error" role="alert">{e}</p> })}
            <h2>"Devices"</h2>
            {move || match devices.get() {
                None => view! { <p class="muted">"Loading devices…"</p> }.into_any(),
                Some(Ok(list)) => view! { <DeviceTable devices=list remote remote_error /> }.into_any(),
                Some(Err(err)) => view! { <p class="error" role="alert">{err.to_string()}</p> }.into_any(),
            }}
        </main>
    }
}

/// The user's own 2FA: set it up, or get new recovery codes.
#[component]
fn TwoFactorPanel(me: Me) -> impl IntoView {
    let screen = crate::nav().screen;
    let new_codes = RwSignal::new(None::<Vec<String>>);
    let error = RwSignal::new(None::<String>);
    let email = me.email.clone();
    // New codes need a current passcode from the app: a session alone cannot replace them.
    let passcode = RwSignal::new(String::new());
    let regenerate = Request::new(
        error,
        move || call(api::enroll::RegenerateRecoveryCodes { code: passcode.get_untracked() }),
        move |answer| {
            let codes = answer?;
            passcode.set(String::new());
            new_codes.set(Some(codes));
            Ok(())
        },
    );
    let body = if me.two_factor == TwoFactorStatus::Active {
        view! {
            <p><span class="tick green" aria-hidden="true">"✔"</span>" Two-factor authentication is active on your login."</p>
            <form class="inline" on:submit=regenerate.on_submit()>
                <label>"Code from your authenticator app"
                    <input type="text" inputmode="numeric" autocomplete="one-time-code" maxlength="6"
                        prop:value=crate::field_value(passcode) on:input=crate::field_input(passcode) />
                </label>
                <button type="submit">"Get new recovery codes"</button>
            </form>
        }
        .into_any()
    } else {
        let email = email.clone();
        view! {
            <p data-testid="two-factor-advice">{dashboard_2fa_text(me.remote_2fa)}</p>
            <button type="button" class="primary"
                on:click=move |_| screen.set(Screen::Activation { email: email.clone(), signed_in: true })>
                "Set up two-factor authentication"
            </button>
        }
        .into_any()
    };
    view! {
        <section class="panel" aria-label="Two-factor authentication">
            {body}
            {move || new_codes.get().map(|codes| {
                let href = text_download_href(&recovery_codes_text(&email, &codes));
                view! {
                    <p>"Your new recovery codes (the old ones no longer work):"</p>
                    <ul class="codes">{codes.into_iter().map(|c| view! { <li><code>{c}</code></li> }).collect_view()}</ul>
                    <a class="button" href=href download="recovery-codes.txt">"Download codes"</a>
                }
            })}
            {move || error.get().map(|e| view! { <p class="error" role="alert">{e}</p> })}
        </section>
    }
}

#[component]
fn DeviceTable(
    devices: Vec<DeviceView>,
    remote: RwSignal<RemoteState>,
    remote_error: RwSignal<Option<String>>,
) -> impl IntoView {
    if devices.is_empty() {
        return view! { <p class="muted">"No devices are registered for this account yet."</p> }.into_any();
    }
    // One handler for both buttons of every row: the WASM holds its code once.
    let start = move |device: DeviceView, kind| {
        move |_| request_start(remote, remote_error, device.clone(), kind, false)
    };
    view! {
        <table aria-label="Devices">
            <thead>
                <tr><th>"Device"</th><th>"Customer"</th><th>"Operating system"</th><th>"Remote access"</th></tr>
            </thead>
            <tbody>
                {devices.into_iter().map(|d| {
                    view! {
                        <tr data-testid="device-row">
                            <td>{d.name.clone()}</td>
                            <td>{d.customer.clone()}</td>
                            <td>{d.os.clone()}</td>
                            <td class="actions">
                                <button type="button" on:click=start(d.clone(), RemoteKind::TakeControl)>
                                    "Take Control"
                                </button>
                                <button type="button" on:click=start(d.clone(), RemoteKind::RemoteBackgroundManagement)>
                                    "Remote Background Management"
                                </button>
                            </td>
                        </tr>
                    }
                }).collect_view()}
            </tbody>
        </table>
    }.into_any()
}
