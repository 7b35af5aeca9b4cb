//! The dashboard, rendered in the browser. It shows what the server answers; every rule is enforced
//! by the functions.

mod dashboard;
mod login;

use api::auth::Me;
use leptos::prelude::*;
use leptos::task::spawn_local;

/// Which screen the dashboard is on.
#[derive(Clone, Debug, PartialEq)]
enum Screen {
    /// Asking the server whether this browser is signed in.
    Checking,
    Login,
    Dashboard(Me),
}

fn main() {
    console_error_panic_hook::set_once();
    leptos::mount::mount_to_body(App);
}

#[component]
fn App() -> impl IntoView {
    let screen = RwSignal::new(Screen::Checking);
    spawn_local(async move {
        let next = match api::auth::current_user().await {
            Ok(Some(me)) => Screen::Dashboard(me),
            Ok(None) | Err(_) => Screen::Login,
        };
        screen.set(next);
    });
    let on_signed_in = Callback::new(move |me: Me| screen.set(Screen::Dashboard(me)));
    let on_signed_out = Callback::new(move |()| screen.set(Screen::Login));
    move || match screen.get() {
        Screen::Checking => view! { <p class="muted" style="padding:2rem">"Loading…"</p> }.into_any(),
        Screen::Login => view! { <login::Login on_signed_in /> }.into_any(),
        Screen::Dashboard(me) => view! { <dashboard::Dashboard me on_signed_out /> }.into_any(),
    }
}
