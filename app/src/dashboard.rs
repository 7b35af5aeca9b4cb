use api::auth::{DeviceView, Me};
use leptos::prelude::*;
use leptos::task::spawn_local;

#[component]
pub fn Dashboard(me: Me, on_signed_out: Callback<()>) -> impl IntoView {
    let devices = LocalResource::new(|| api::auth::devices());
    let log_out = move |_| {
        spawn_local(async move {
            // Even if the call fails, leave: the cookie is cleared or the session has ended.
            let _ = api::auth::logout().await;
            on_signed_out.run(());
        });
    };

    view! {
        <header class="topbar">
            <span class="brand">"Dashboard"</span>
            <span class="who">
                <strong data-testid="user-name">{me.name.clone()}</strong><br />
                <small data-testid="user-role">{me.role.clone()}" · "{me.account_name.clone()}</small>
            </span>
            <button on:click=log_out>"Log out"</button>
        </header>
        <main>
            <h2>"Devices"</h2>
            <Suspense fallback=|| view! { <p class="muted">"Loading devices…"</p> }>
                {move || devices.get().map(|result| match result {
                    Ok(list) => view! { <DeviceTable devices=list /> }.into_any(),
                    Err(err) => view! { <p class="error" role="alert">{err.to_string()}</p> }.into_any(),
                })}
            </Suspense>
        </main>
    }
}

#[component]
fn DeviceTable(devices: Vec<DeviceView>) -> impl IntoView {
    if devices.is_empty() {
        return view! { <p class="muted">"No devices are registered for this account yet."</p> }.into_any();
    }
    view! {
        <table aria-label="Devices">
            <thead>
                <tr><th>"Device"</th><th>"Customer"</th><th>"Operating system"</th><th>"Remote access"</th></tr>
            </thead>
            <tbody>
                {devices.into_iter().map(|d| view! {
                    <tr data-testid="device-row">
                        <td>{d.name.clone()}</td>
                        <td>{d.customer.clone()}</td>
                        <td>{d.os.clone()}</td>
                        <td class="actions">
                            <button type="button">"Take Control"</button>
                            <button type="button">"Remote Background Management"</button>
                        </td>
                    </tr>
                }).collect_view()}
            </tbody>
        </table>
    }.into_any()
}
