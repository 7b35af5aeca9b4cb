//! The dashboard, rendered in the browser. It shows what the server answers; every rule is enforced
//! by the functions.
//!
//! Written for a small WASM download (scripts/sizes): text inputs spell out `bind:value` as
//! `prop:value` + `on:input`, conditional parts use a `Memo` and a closure instead of `<Show>`,
//! and server functions go through [`call::call`]. Each does what the generic version does, with
//! less code per use.

mod activation;
mod admin;
mod answer;
mod call;
mod dashboard;
mod ipverify;
mod logic;
mod login;
mod passcode;
mod remote;

use api::auth::Me;
use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::call::call;

/// Which screen the dashboard is on.
#[derive(Clone, Debug, PartialEq)]
pub enum Screen {
    /// Asking the server whether this browser is signed in.
    Checking,
    Login,
    /// Password accepted; 2FA is active.
    Passcode,
    /// 2FA must be activated: from the login, or chosen by a signed-in user.
    Activation {
        email: String,
        signed_in: bool,
    },
    /// The login waits for the emailed IP verification link.
    IpWaiting {
        email: String,
    },
    /// This page was opened from an IP verification link.
    VerifyIp(String),
    Dashboard(Me),
}

fn main() {
    console_error_panic_hook::set_once();
    leptos::mount::mount_to_body(App);
}

/// Copies text to the clipboard (best effort: the browser may refuse without a user gesture).
pub fn copy_to_clipboard(text: &str) {
    if let Some(window) = web_sys::window() {
        let _ = window.navigator().clipboard().write_text(text);
    }
}

/// Moves keyboard focus to the first element matching `selector`, once it is rendered.
pub fn focus_first(selector: &'static str) {
    request_animation_frame(move || {
        use wasm_bindgen::JsCast;
        if let Ok(Some(element)) = document().query_selector(selector) {
            if let Ok(element) = element.dyn_into::<web_sys::HtmlElement>() {
                let _ = element.focus();
            }
        }
    });
}

#[component]
fn App() -> impl IntoView {
    let screen = RwSignal::new(Screen::Checking);
    // A one-off message for the next screen, e.g. "a recovery code was used".
    let notice = RwSignal::new(None::<String>);
    provide_context(screen);
    provide_context(notice);
    if let Some(token) = ipverify::link_token() {
        screen.set(Screen::VerifyIp(token));
    } else {
        spawn_local(async move {
            let next = match call(api::auth::CurrentUser {}).await {
                Ok(Some(me)) => Screen::Dashboard(me),
                Ok(None) | Err(_) => Screen::Login,
            };
            screen.set(next);
        });
    }
    move || match screen.get() {
        Screen::Checking => view! { <p class="muted loading">"Loading…"</p> }.into_any(),
        Screen::Login => view! { <login::Login /> }.into_any(),
        Screen::Passcode => view! { <passcode::Passcode /> }.into_any(),
        Screen::Activation { email, signed_in } => {
            view! { <activation::Activation email signed_in /> }.into_any()
        }
        Screen::Dashboard(me) => view! { <dashboard::Dashboard me /> }.into_any(),
        Screen::IpWaiting { email } => view! { <ipverify::IpWaiting email /> }.into_any(),
        Screen::VerifyIp(token) => view! { <ipverify::VerifyIp token /> }.into_any(),
    }
}
