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

/// Sends one server function's arguments, e.g. `call(api::auth::Login { email, password })`.
pub async fn call<F>(args: F) -> Result<F::Output, ApiError>
where
    F: ServerFn<Error = ApiError> + Serialize,
    F::Output: DeserializeOwned,
{
    let body = serde_json::to_string(&args).map_err(|_| ApiError::internal())?;
    let (status, text) = post_json(F::PATH, body).await?;
    if (400..=599).contains(&status) {
        // As server_fn: an error body that does not read as an `ApiError` is our fault.
        return Err(serde_json::from_str(&text).unwrap_or_else(|_| ApiError::internal()));
    }
    serde_json::from_str(&text).map_err(|_| ApiError::internal())
}

/// POSTs `body` as JSON to `path`; answers the status and the body. A request that cannot be sent
/// or answered is `Unreachable`, a body that cannot be read is `Internal` (as with server_fn).
async fn post_json(path: &str, body: String) -> Result<(u16, String), ApiError> {
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
    let text = match response.text() {
        Ok(promise) => JsFuture::from(promise).await.ok().and_then(|t| t.as_string()),
        Err(_) => None,
    };
    Ok((response.status(), text.ok_or_else(ApiError::internal)?))
}

struct AbortOnDrop(Option<web_sys::AbortController>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        if let Some(ctrl) = &self.0 {
            ctrl.abort();
        }
    }
}
