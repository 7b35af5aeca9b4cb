//! A form's request to a server function, as a Leptos action: one at a time, its error shown
//! where the form shows errors. Every form says only what it sends and what it does with the
//! answer.
//!
//! A plain `Action` rather than `ServerAction` and `<ActionForm>`: the server functions take JSON,
//! which `<ActionForm>` does not send, and `ServerAction` alone brought server_fn's client back
//! (37 KB more of the gzipped download for the login form). Every request is an
//! `Action<(), ()>`, so the action's code is in the WASM once.

use std::future::Future;
use std::pin::Pin;

use api::ApiError;
use leptos::prelude::*;

/// One form's request. While it is out, the form's button is disabled and a second submit sends
/// nothing.
#[derive(Clone, Copy)]
pub struct Request {
    action: Action<(), ()>,
    pending: Memo<bool>,
}

impl Request {
    /// `send` starts the request from what the form holds (it runs when the form is sent, before
    /// any await); `answer` does what the answer says, and the error it returns is shown in
    /// `error` in its own words. `error` is cleared when the form is sent.
    pub fn new<T: 'static, F>(
        error: RwSignal<Option<String>>,
        send: impl Fn() -> F + 'static,
        answer: impl Fn(Result<T, ApiError>) -> Result<(), ApiError> + Copy + 'static,
    ) -> Self
    where
        F: Future<Output = Result<T, ApiError>> + 'static,
    {
        Self::with(
            error,
            Box::new(move || {
                let sent = send();
                Box::pin(async move {
                    if let Err(err) = answer(sent.await) {
                        error.set(Some(err.to_string()));
                    }
                })
            }),
        )
    }

    /// The action, the same type for every form: its code is in the WASM once, not once per form.
    fn with(
        error: RwSignal<Option<String>>,
        run: Box<dyn Fn() -> Pin<Box<dyn Future<Output = ()>>>>,
    ) -> Self {
        let action = Action::new_local(move |_: &()| {
            error.set(None);
            run()
        });
        Request { action, pending: action.pending() }
    }

    /// Whether the request is out (for the view: its button is disabled meanwhile).
    pub fn busy(self) -> bool {
        self.pending.get()
    }

    /// Whether no request is out now (for handlers).
    pub fn idle(self) -> bool {
        !self.pending.get_untracked()
    }

    /// Sends the request, unless one is out already: a double submit sends once.
    pub fn send(self) {
        if self.idle() {
            self.action.dispatch_local(());
        }
    }

    /// The form's submit handler.
    pub fn on_submit(self) -> impl Fn(leptos::ev::SubmitEvent) + Copy {
        move |ev| {
            ev.prevent_default();
            self.send();
        }
    }
}

/// The error of a form, in a `role=alert` paragraph. `<Show>` spelled out (its generic children
/// code is large): the alert is built when an error appears and then only its text follows the
/// error.
pub fn alert(error: RwSignal<Option<String>>) -> impl IntoView {
    let has_error = Memo::new(move |_| error.get().is_some());
    move || {
        has_error.get().then(|| {
            view! {
                <p class="error" role="alert">{move || error.get().unwrap_or_default()}</p>
            }
        })
    }
}
