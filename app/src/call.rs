//! Calls the server functions. The request and its answer are exactly what server_fn's browser
//! client sends and reads (POST to the function's path, JSON both ways, an error status carries an
//! `ApiError`), but the fetch is one plain function here: server_fn's generic client put its
//! request, response and stream layers into the WASM once per server function.

use api::ApiError;
use leptos::server_fn::ServerFn;
use serde::Serialize;
use serde::de::DeserializeOwned;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

use crate::answer::from_js;

/// Sends one server function's arguments, e.g. `call(api::auth::Login { email, password })`.
pub async fn call<F>(args: F) -> Result<F::Output, ApiError>
where
    F: ServerFn<Error = ApiError> + Serialize,
    F::Output: DeserializeOwned,
{
    let body = serde_json::to_string(&args).map_err(|_| ApiError::internal())?;
    let answer = post_json(F::PATH, body).await;
    if let Err(ApiError::Unauthenticated { message }) = &answer {
        crate::session_ended(message);
    }
    from_js(answer?).map_err(|_| ApiError::internal())
}

/// POSTs `body` as JSON to `path`; answers the JSON of a successful answer, already parsed by the
/// browser and read by [`crate::answer`] (serde_json's parser was a tenth of the WASM). An error
/// status carries an `ApiError`. A request that cannot be sent or answered is `Unreachable`; an
/// answer that is not JSON, or an error that is not an `ApiError`, is `Internal` (as with
/// server_fn).
async fn post_json(path: &str, body: String) -> Result<JsValue, ApiError> {
    let unreachable = |_: JsValue| ApiError::Unreachable {
        message: "The dashboard could not be reached. Check your connection and try again.".into(),
    };
    // Like server_fn, the request is aborted if the caller stops waiting before it is answered.
    let mut abort = AbortOnDrop(web_sys::AbortController::new().ok());
    let headers = web_sys::Headers::new().map_err(unreachable)?;
    headers.set("Content-Type", "application/json").map_err(unreachable)?;
    headers.set("Accept", "application/json").map_err(unreachable)?;
    let init = web_sys::RequestInit::new();
    init.set_method("POST");
    init.set_headers(&headers);
    init.set_body(&JsValue::from_str(&body));
    if let Some(ctrl) = &abort.0 {
        init.set_signal(Some(&ctrl.signal()));
    }
    let window = web_sys::window().ok_or_else(|| unreachable(JsValue::NULL))?;
    let response = JsFuture::from(window.fetch_with_str_and_init(path, &init)).await.map_err(unreachable)?;
    abort.0 = None;
    let response: web_sys::Response = response.unchecked_into();
    let json = match response.json() {
        Ok(promise) => JsFuture::from(promise).await.map_err(|_| ApiError::internal())?,
        Err(_) => return Err(ApiError::internal()),
    };
    if (400..=599).contains(&response.status()) {
        return Err(from_js(json).unwrap_or_else(|_| ApiError::internal()));
    }
    Ok(json)
}

struct AbortOnDrop(Option<web_sys::AbortController>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        if let Some(ctrl) = &self.0 {
            ctrl.abort();
        }
    }
}
