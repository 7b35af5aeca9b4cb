use leptos::prelude::*;

use crate::call::call;
use crate::request::{Request, alert};

#[component]
pub fn Login() -> impl IntoView {
    let crate::Nav { screen, notice } = crate::nav();
    let email = RwSignal::new(String::new());
    let password = RwSignal::new(String::new());
    let error = RwSignal::new(None::<String>);
    let log_in = Request::new(
        error,
        move || call(api::auth::Login { email: email.get_untracked(), password: password.get_untracked() }),
        move |answer| {
            let outcome = answer.inspect_err(|_| password.set(String::new()))?;
            // What the notice said (log in again, locked, the link expired) is over.
            notice.set(None);
            screen.set(crate::ipverify::screen_for(outcome));
            Ok(())
        },
    );

    view! {
        <form class="card login" on:submit=log_in.on_submit() novalidate>
            <h1>"Log in to the Dashboard"</h1>
            {move || notice.get().map(|n| view! { <p class="notice" role="status">{n}</p> })}
            <label for="email">"Email"</label>
            <input id="email" type="email" autocomplete="username" required
                prop:value=crate::field_value(email)
                on:input=crate::field_input(email) />
            <label for="password">"Password"</label>
            <input id="password" type="password" autocomplete="current-password" required
                prop:value=crate::field_value(password)
                on:input=crate::field_input(password) />
            <button class="primary wide" type="submit" disabled=move || log_in.busy()>
                {move || if log_in.busy() { "Logging in…" } else { "Log in" }}
            </button>
            {alert(error)}
        </form>
    }
}
