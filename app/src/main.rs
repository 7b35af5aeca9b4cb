//! The dashboard, rendered in the browser. It shows what the server answers; every rule is enforced
//! by the functions.
//!
//! Written for a small WASM download (scripts/sizes): text inputs spell out `bind:value` as
//! `prop:value` + `on:input` ([`field_value`], [`field_input`]), conditional parts use a `Memo`
//! and a closure instead of `<Show>`, server functions go through [`call::call`], forms send
//! through [`request::Request`] (a plain `Action`, not `ServerAction`), and screens reach the
//! navigation through [`nav`] rather than Leptos contexts (whose lookup machinery was 6.7 KB of the
//! gzipped download). Each does what the generic version does, with less code.

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
mod request;

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

// A free-list allocator of a few hundred bytes instead of dlmalloc's few KB: the app is one thread
// (wasm32 without atomics) and holds little memory.
#[cfg(target_arch = "wasm32")]
#[global_allocator]
static ALLOCATOR: lol_alloc::AssumeSingleThreaded<lol_alloc::FreeListAllocator> =
    // SAFETY: wasm32-unknown-unknown without the atomics feature runs on one thread only.
    unsafe { lol_alloc::AssumeSingleThreaded::new(lol_alloc::FreeListAllocator::new()) };

fn main() {
    // Panic messages in the console while developing; a release build leaves out their
    // formatting (a few KB of WASM).
    #[cfg(debug_assertions)]
    console_error_panic_hook::set_once();
    leptos::mount::mount_to_body(App);
}

/// Copies text to the clipboard (best effort: the browser may refuse without a user gesture).
pub fn copy_to_clipboard(text: &str) {
    if let Some(window) = web_sys::window() {
        let _ = window.navigator().clipboard().write_text(text);
    }
}

/// A text field's value, for `prop:value`: half of `bind:value` spelled out (see above), one
/// closure type for every field, so its code is in the WASM once.
pub fn field_value(text: RwSignal<String>) -> impl Fn() -> String + Copy + Send + Sync + 'static {
    move || text.get()
}

/// What typing in a text field does, for `on:input`: the other half of `bind:value`.
pub fn field_input(text: RwSignal<String>) -> impl Fn(leptos::ev::Event) + Copy + 'static {
    move |ev| text.set(event_target_value(&ev))
}

/// Moves keyboard focus to the first element matching `selector`, once it is rendered.
pub fn focus_first(selector: &str) {
    let selector = selector.to_owned();
    request_animation_frame(move || {
        use wasm_bindgen::JsCast;
        if let Ok(Some(element)) = document().query_selector(&selector)
            && let Ok(element) = element.dyn_into::<web_sys::HtmlElement>()
        {
            let _ = element.focus();
        }
    });
}

/// The elements matching `selector` inside the element `ev` is handled on (a dialog, a menu), and
/// the position of the focused one among them.
pub fn focus_ring(
    ev: &leptos::ev::KeyboardEvent,
    selector: &str,
) -> (Vec<web_sys::HtmlElement>, Option<usize>) {
    use wasm_bindgen::JsCast;
    let root = ev.current_target().and_then(|t| t.dyn_into::<web_sys::Element>().ok());
    let Some(list) = root.and_then(|r| r.query_selector_all(selector).ok()) else {
        return (Vec::new(), None);
    };
    let items: Vec<web_sys::HtmlElement> =
        (0..list.length()).filter_map(|i| list.item(i)?.dyn_into().ok()).collect();
    let active = document().active_element();
    let at = items
        .iter()
        .position(|i| active.as_ref().is_some_and(|a| a == i.unchecked_ref::<web_sys::Element>()));
    (items, at)
}

/// Keeps Tab and Shift+Tab inside the dialog the key was pressed in.
/// A dialog inside another (the confirmation in User Accounts) handles the key first; the outer
/// one then leaves it alone.
pub fn keep_tab_inside(ev: &leptos::ev::KeyboardEvent) {
    if ev.key() != "Tab" || ev.default_prevented() {
        return;
    }
    let (items, at) = focus_ring(
        ev,
        "button:not([disabled]), input:not([disabled]), select:not([disabled]), a[href], [tabindex='0']",
    );
    let last = items.len().saturating_sub(1);
    let wrap_to = match (ev.shift_key(), at) {
        (true, Some(0)) => last,
        (false, Some(i)) if i == last => 0,
        _ => return,
    };
    ev.prevent_default();
    if let Some(item) = items.get(wrap_to) {
        let _ = item.focus();
    }
}

/// Where a popup opened at `(x, y)` goes so that it stays inside the window: below and right of
/// the point in the window's top-left half, otherwise above or left of it (anchored by its
/// bottom or right edge). CSS `left`, `right`, `top` and `bottom`, set one by one (the CSP
/// allows no style attribute).
pub fn popup_anchor(x: i32, y: i32) -> [String; 4] {
    let size = |v: Result<wasm_bindgen::JsValue, wasm_bindgen::JsValue>| {
        v.ok().and_then(|v| v.as_f64()).unwrap_or(0.0) as i32
    };
    let (width, height) = (size(window().inner_width()), size(window().inner_height()));
    let px = |v: i32| format!("{}px", v.max(0));
    let auto = || "auto".to_owned();
    let (left, right) = if x * 2 < width { (px(x), auto()) } else { (auto(), px(width - x)) };
    let (top, bottom) = if y * 2 < height { (px(y), auto()) } else { (auto(), px(height - y)) };
    [left, right, top, bottom]
}

/// Where the app is: the screen it shows, and a one-off message for the next screen (e.g. "a
/// recovery code was used"). Set once by [`App`]; read with [`nav`].
#[derive(Clone, Copy)]
pub struct Nav {
    pub screen: RwSignal<Screen>,
    pub notice: RwSignal<Option<String>>,
}

thread_local! {
    static NAV: std::cell::OnceCell<Nav> = const { std::cell::OnceCell::new() };
}

/// The app's navigation. A thread-local rather than a Leptos context: any code may need it,
/// including answers that end the session whichever call gets them.
pub fn nav() -> Nav {
    NAV.with(|cell| *cell.get().expect("App sets the navigation before any screen"))
}

/// A call on a signed-in screen (or in activation) answered that the session or login has ended:
/// back to the login screen, saying why. On the login and passcode screens the same answer means a
/// wrong password or code, and those screens show it themselves.
pub fn session_ended(message: &str) {
    let Nav { screen, notice } = nav();
    if matches!(screen.get_untracked(), Screen::Dashboard(_) | Screen::Activation { .. }) {
        notice.set(Some(message.to_owned()));
        screen.set(Screen::Login);
    }
}

/// Ends the session (or the login under way) and goes back to the login screen. Even if the call
/// fails: the cookie is cleared or the session has ended.
pub fn log_out() {
    spawn_local(async move {
        let _ = call(api::auth::Logout {}).await;
        nav().screen.set(Screen::Login);
    });
}

#[component]
fn App() -> impl IntoView {
    let screen = RwSignal::new(Screen::Checking);
    NAV.with(|cell| cell.set(Nav { screen, notice: RwSignal::new(None) }).ok());
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
