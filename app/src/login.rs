use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::call::call;

#[component]
pub fn Login() -> impl IntoView {
    let crate::Nav { screen, notice } = crate::nav();
    let email = RwSignal::new(String::new());
    let password = RwSignal::new(String::new());
    let error = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);

    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if busy.get_untracked() {
            return;
        }
        busy.set(true);
        error.set(None);
        spawn_local(async move {
            let result =
                call(api::auth::Login { email: email.get_untracked(), password: password.get_untracked() })
                    .await;
            busy.set(false);
            match result {
                Ok(outcome) => {
                    // What the notice said (log in again, locked, the link expired) is over.
                    notice.set(None);
                    screen.set(crate::ipverify::screen_for(outcome));
                }
                Err(err) => {
                    password.set(String::new());
                    error.set(Some(err.to_string()));
                }
            }
        });
    };

    // `<Show>` spelled out (its generic children code is large): the alert is built when an error
    // appears and then only its text follows the error.
    let has_error = Memo::new(move |_| error.get().is_some());

    view! {
        <form class="card login" on:submit=submit novalidate>
            <h1>"Log in to the Dashboard"</h1>
            {move || notice.get().map(|n| view! { <p class="notice" role="status">{n}</p> })}
            <label for="email">"Email"</label>
            <input id="email" type="email" autocomplete="username" required
                prop:value=move || email.get()
                on:input=move |ev| email.set(event_target_value(&ev)) />
            <label for="password">"Password"</label>
            <input id="password" type="password" autocomplete="current-password" required
                prop:value=move || password.get()
                on:input=move |ev| password.set(event_target_value(&ev)) />
            <button class="primary wide" type="submit" disabled=move || busy.get()>
                {move || if busy.get() { "Logging in…" } else { "Log in" }}
            </button>
            {move || has_error.get().then(|| view! {
                <p class="error" role="alert">{move || error.get().unwrap_or_default()}</p>
            })}
        </form>
    }
}
