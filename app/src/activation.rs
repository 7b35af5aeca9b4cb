//! The activation flow: validate the email address, set up the authenticator app, save the
//! recovery codes.

use api::auth::Me;
use api::enroll::{AuthenticatorSetup, EnrollmentView};
use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::call::call;
use crate::logic::{recovery_codes_text, text_download_href};
use crate::{Screen, copy_to_clipboard};

#[derive(Clone, Debug, PartialEq)]
enum Step {
    Loading,
    Email(EnrollmentView),
    Authenticator(AuthenticatorSetup),
    RecoveryCodes { me: Me, codes: Vec<String> },
}

#[component]
pub fn Activation(email: String, signed_in: bool) -> impl IntoView {
    let screen = crate::nav().screen;
    let step = RwSignal::new(Step::Loading);
    let error = RwSignal::new(None::<String>);

    let show_authenticator = move || {
        spawn_local(async move {
            match call(api::enroll::BeginAuthenticator {}).await {
                Ok(setup) => step.set(Step::Authenticator(setup)),
                Err(err) => error.set(Some(err.to_string())),
            }
        })
    };
    // Where the flow stands decides the first step; a first code is sent straight away.
    spawn_local(async move {
        match call(api::enroll::EnrollmentStatus {}).await {
            Ok(view) if view.email_verified => show_authenticator(),
            Ok(view) if !view.code_sent => match call(api::enroll::SendEmailCode {}).await {
                Ok(view) => step.set(Step::Email(view)),
                Err(err) => {
                    error.set(Some(err.to_string()));
                    step.set(Step::Email(view));
                }
            },
            Ok(view) => step.set(Step::Email(view)),
            Err(err) => error.set(Some(err.to_string())),
        }
    });
    let cancel = move |_| {
        spawn_local(async move {
            if signed_in {
                if let Ok(Some(me)) = call(api::auth::CurrentUser {}).await {
                    screen.set(Screen::Dashboard(me));
                    return;
                }
            }
            let _ = call(api::auth::Logout {}).await;
            screen.set(Screen::Login);
        });
    };

    // `<Show>` spelled out (its generic children code is large): each part is built when its
    // condition turns true, not again while it stays true.
    let has_error = Memo::new(move |_| error.get().is_some());
    let finished = Memo::new(move |_| matches!(step.get(), Step::RecoveryCodes { .. }));

    view! {
        <section class="card wizard" aria-labelledby="activation-title">
            <h1 id="activation-title">"Turn on two-factor authentication"</h1>
            <p class="muted">{if signed_in { "Signed in as " } else { "Logging in as " }} <strong>{email.clone()}</strong></p>
            {move || match step.get() {
                Step::Loading => view! { <p class="muted">"Loading…"</p> }.into_any(),
                Step::Email(view) => view! { <EmailStep view error on_verified=move || show_authenticator() /> }.into_any(),
                Step::Authenticator(setup) => view! {
                    <AuthenticatorStep setup error on_activated=move |me, codes| step.set(Step::RecoveryCodes { me, codes }) />
                }.into_any(),
                Step::RecoveryCodes { me, codes } => view! { <RecoveryStep me codes /> }.into_any(),
            }}
            {move || has_error.get().then(|| view! {
                <p class="error" role="alert">{move || error.get().unwrap_or_default()}</p>
            })}
            {move || (!finished.get()).then(|| view! {
                <p class="muted small">"Stuck? Ask a colleague with access to User Accounts to disable 2FA for your login for now. If a colleague isn't able to help, then our customer support team will be able to help you out too."</p>
                <button type="button" class="link" on:click=cancel>
                    {if signed_in { "Not now" } else { "Cancel and log out" }}
                </button>
            })}
        </section>
    }
}

#[component]
fn EmailStep(
    view: EnrollmentView,
    error: RwSignal<Option<String>>,
    on_verified: impl Fn() + Copy + Send + Sync + 'static,
) -> impl IntoView {
    let code = RwSignal::new(String::new());
    let sent_note =
        RwSignal::new(view.code_sent.then(|| format!("We sent a 6-digit code to {}.", view.email)));
    // One request at a time: a double click verifies once and sends one email.
    let busy = RwSignal::new(false);
    let verify = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if busy.get_untracked() {
            return;
        }
        busy.set(true);
        error.set(None);
        spawn_local(async move {
            let result = call(api::enroll::VerifyEmailCode { code: code.get_untracked() }).await;
            busy.set(false);
            match result {
                Ok(view) if view.email_verified => on_verified(),
                Ok(_) => error.set(Some("That code did not verify. Try again.".into())),
                Err(err) => error.set(Some(err.to_string())),
            }
        });
    };
    let resend = move |_| {
        if busy.get_untracked() {
            return;
        }
        busy.set(true);
        error.set(None);
        spawn_local(async move {
            let result = call(api::enroll::SendEmailCode {}).await;
            busy.set(false);
            match result {
                Ok(view) => sent_note.set(Some(format!("We sent a new code to {}.", view.email))),
                Err(err) => error.set(Some(err.to_string())),
            }
        });
    };
    view! {
        <h2>"Step 1 of 2: Validate your email address"</h2>
        <p class="warning" role="note">
            "The code goes to " <strong>{view.email.clone()}</strong>
            ". This must be an address you can read. If you cannot receive email there, stop now: a colleague with access to User Accounts will have to reset your login."
        </p>
        {move || sent_note.get().map(|n| view! { <p role="status">{n}</p> })}
        <form on:submit=verify novalidate>
            <label for="email-code">"Code from the email"</label>
            <input id="email-code" inputmode="numeric" autocomplete="one-time-code" maxlength="6"
                prop:value=move || code.get()
                on:input=move |ev| code.set(event_target_value(&ev)) />
            <div class="row">
                <button class="primary" type="submit" disabled=move || busy.get()>"Verify email"</button>
                <button type="button" on:click=resend disabled=move || busy.get()>"Send a new code"</button>
            </div>
        </form>
    }
}

#[component]
fn AuthenticatorStep(
    setup: AuthenticatorSetup,
    error: RwSignal<Option<String>>,
    on_activated: impl Fn(Me, Vec<String>) + Copy + Send + Sync + 'static,
) -> impl IntoView {
    let code = RwSignal::new(String::new());
    let busy = RwSignal::new(false);
    let key = setup.manual_key.clone();
    let activate = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if busy.get_untracked() {
            return;
        }
        busy.set(true);
        error.set(None);
        spawn_local(async move {
            let result = call(api::enroll::ConfirmAuthenticator { code: code.get_untracked() }).await;
            busy.set(false);
            match result {
                Ok(done) => on_activated(done.me, done.recovery_codes),
                Err(err) => error.set(Some(err.to_string())),
            }
        });
    };
    view! {
        <h2>"Step 2 of 2: Set up your authenticator app"</h2>
        <p>"Install an authenticator app on your smartphone if you have none yet: they are freely available in the app stores for iOS, Android, Windows Phone and any other mobile OS (for example Microsoft Authenticator, Google Authenticator or Authy). Then scan this QR code with it."</p>
        <div class="qr" role="img" aria-label="QR code for your authenticator app" inner_html=setup.qr_svg.clone()></div>
        <p>"Can't scan it? Enter this key in the app instead:"</p>
        <p class="key-row">
            <code class="manual-key" data-testid="manual-key">{setup.manual_key.clone()}</code>
            <button type="button" on:click=move |_| copy_to_clipboard(&key.replace(' ', ""))>"Copy key"</button>
        </p>
        <form on:submit=activate novalidate>
            <label for="totp-code">"6-digit code from the app"</label>
            <input id="totp-code" inputmode="numeric" autocomplete="one-time-code" maxlength="7"
                prop:value=move || code.get()
                on:input=move |ev| code.set(event_target_value(&ev)) />
            <button class="primary" type="submit" disabled=move || busy.get()>"Activate"</button>
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
