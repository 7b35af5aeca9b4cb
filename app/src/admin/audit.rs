//! The audit log: every security event in words, filtered by user and event.

use api::accounts::{AuditAction, AuditPage, SortBy, UserRow};
use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::call::call;
use crate::logic::format_time;

#[component]
pub(super) fn AuditLog() -> impl IntoView {
    let (user_filter, action_filter) = (RwSignal::new(String::new()), RwSignal::new(String::new()));
    let (rows, next) = (RwSignal::new(Vec::new()), RwSignal::new(None::<String>));
    let error = RwSignal::new(None::<String>);
    // The newest events that pass the filters, or (`more`) the next older ones.
    let load = move |more: bool| {
        let cursor = if more { next.get_untracked() } else { None };
        let (user, action) = (user_filter.get_untracked(), action_filter.get_untracked());
        spawn_local(async move {
            match call(api::accounts::AuditLog { user_id: Some(user), action: Some(action), cursor }).await {
                Ok(AuditPage { rows: page, next: n }) => {
                    rows.update(|r| {
                        if !more {
                            r.clear();
                        }
                        r.extend(page);
                    });
                    next.set(n);
                }
                Err(e) => error.set(Some(e.to_string())),
            }
        });
    };
    load(false);
    // `<Show>` spelled out (its generic children code is large): the button stays the same
    // element while there are older events, so it keeps focus after a click.
    let has_older = Memo::new(move |_| next.get().is_some());
    let users = all_users();
    view! {
        <div class="row filters">
            <label>"User "
                <select on:change=move |ev| { user_filter.set(event_target_value(&ev)); load(false); }>
                    <option value="">"Everyone"</option>
                    {move || users.get().into_iter().map(|u| view! { <option value=u.id.clone()>{u.name.clone()}</option> }).collect_view()}
                </select>
            </label>
            <label>"Event "
                <select on:change=move |ev| { action_filter.set(event_target_value(&ev)); load(false); }>
                    <option value="">"All events"</option>
                    {AuditAction::ALL.iter().map(|a| view! { <option value=a.code()>{a.label()}</option> }).collect_view()}
                </select>
            </label>
        </div>
        {move || error.get().map(|e| view! { <p class="error" role="alert">{e}</p> })}
        <table class="grid" aria-label="Audit log">
            <thead><tr><th>"When"</th><th>"Event"</th><th>"By"</th><th>"About"</th><th>"IP address"</th><th>"Detail"</th></tr></thead>
            <tbody>
                {move || rows.get().into_iter().map(|r| view! {
                    <tr data-testid="audit-row">
                        <td>{format_time(r.at)}</td><td title=r.action.clone() data-code=r.action>{r.label}</td><td>{r.actor}</td>
                        <td>{r.subject}</td><td>{r.client_ip}</td><td>{r.detail}</td>
                    </tr>
                }).collect_view()}
            </tbody>
        </table>
        {move || has_older.get().then(|| view! {
            <button type="button" on:click=move |_| load(true)>"Show older events"</button>
        })}
    }
}

/// Every user of the account, for the user filter: loaded page by page, empty until then.
fn all_users() -> RwSignal<Vec<UserRow>> {
    let users = RwSignal::new(Vec::new());
    spawn_local(async move {
        let mut all = Vec::new();
        let mut at = None;
        while let Ok(p) = call(api::accounts::ListUsers { sort: SortBy::Name, descending: false, at }).await {
            all.extend(p.rows);
            match p.next {
                Some(next) => at = Some(next),
                None => break,
            }
        }
        users.set(all);
    });
    users
}
