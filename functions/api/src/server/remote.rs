//! The remote-session gate. A user with active 2FA costs two DynamoDB calls: the session read
//! (which says it was a 2FA login) and one transaction (device check, record, audit).

use domain::UnixTime;
use domain::audit::AuditAction;
use domain::remote::{Decision, RemoteKind};
use store::{AuditEvent, Operation, RemoteSession, Session, StartError};

use super::request::{self, ctx, require_signed_in, require_user, store_failure, stored_session};
use super::shared::{remote_policy, status_of};
use super::{Access, Ctx, audit, now};
use crate::ApiError;
use crate::remote::{DeviceView, RemoteStart, StartedSession};

/// The `remote` function's reach: the devices, the gate's record of a session, and "Activate
/// Now" from the gate's prompt (enabling 2FA for oneself). It sends no mail.
pub const ACCESS: Access = Access {
    store_operations: &[
        request::STORE_OPERATIONS,
        audit::STORE_OPERATIONS,
        &[Operation::ListDevices, Operation::StartRemoteSession, Operation::EnableTwoFactor],
    ],
    sends_mail: false,
};

pub async fn devices() -> Result<Vec<DeviceView>, ApiError> {
    let ctx = ctx();
    let session = require_signed_in(&ctx).await?.session;
    let devices = ctx.store.list_devices(&session.account_id).await.map_err(store_failure)?;
    Ok(devices
        .into_iter()
        .map(|d| DeviceView { id: d.id, name: d.name, customer: d.customer, os: d.os })
        .collect())
}

pub async fn start(device_id: String, kind: RemoteKind, defer: bool) -> Result<RemoteStart, ApiError> {
    let ctx = ctx();
    if device_id.is_empty() || device_id.len() > 64 {
        return Err(ApiError::bad_request("Choose a device."));
    }
    let (token_hash, session) = stored_session(&ctx).await?;
    let gate = Gate { ctx: &ctx, session: &session, device_id, kind, ip: request::client_ip(), now: now() };
    match gate.decide(&token_hash, defer).await? {
        Decision::Prompt { deferral_until } => Ok(RemoteStart::ActivationRequired {
            deferral_allowed: true,
            deferral_until: deferral_until.map(UnixTime::seconds),
        }),
        Decision::ActivationRequired if defer => {
            let detail = format!("{} on {{device}}: 2FA required, deferral refused", kind.label());
            audit::write(&ctx, &gate.event(AuditAction::RemoteRefused, detail)).await;
            Err(ApiError::forbidden(
                "Two-factor authentication is now required for Take Control and Remote Background Management. Activate it to continue.",
            ))
        }
        Decision::ActivationRequired => {
            Ok(RemoteStart::ActivationRequired { deferral_allowed: false, deferral_until: None })
        }
        Decision::Start => gate.start(&token_hash, false).await,
        Decision::StartDeferred => gate.start(&token_hash, true).await,
    }
}

/// One request to start a remote session on a device.
struct Gate<'a> {
    ctx: &'a Ctx,
    session: &'a Session,
    device_id: String,
    kind: RemoteKind,
    ip: String,
    now: UnixTime,
}

impl Gate<'_> {
    /// A 2FA login may start at once: the epoch check in the recording transaction is its
    /// revocation check. Any other session is checked in full, with the user's 2FA status.
    async fn decide(&self, token_hash: &str, defer: bool) -> Result<Decision, ApiError> {
        if self.session.two_factor {
            return Ok(Decision::Start);
        }
        let request::SignedIn { user, account, .. } =
            request::check_session(self.ctx, token_hash.to_owned(), self.session.clone()).await?;
        Ok(remote_policy(account.as_ref()).decide(status_of(&user, account.as_ref()), self.now, defer))
    }

    /// An audit event about this device; `{device}`: the audit log names the device as the
    /// dashboard does when it is read.
    fn event(&self, action: AuditAction, detail: String) -> AuditEvent {
        let s = self.session;
        AuditEvent {
            device_id: Some(self.device_id.clone()),
            ..audit::event(&s.account_id, &s.user_id, &s.user_id, action, &self.ip, &detail)
        }
    }

    /// Records the remote session (and the deferral) in one transaction that also checks the
    /// device and that the session was not ended meanwhile.
    async fn start(self, token_hash: &str, deferred: bool) -> Result<RemoteStart, ApiError> {
        let kind_label = self.kind.label();
        let record = RemoteSession {
            id: random_id(),
            account_id: self.session.account_id.clone(),
            user_id: self.session.user_id.clone(),
            device_id: self.device_id.clone(),
            kind: self.kind.code().to_owned(),
            started_at: self.now,
            deferred,
        };
        let mut events = Vec::new();
        if deferred {
            let detail = format!("Activate Later chosen before {kind_label} on {{device}}");
            events.push(self.event(AuditAction::RemoteDeferred, detail));
        }
        events.push(self.event(AuditAction::RemoteStarted, format!("{kind_label} on {{device}}")));
        let store = &self.ctx.store;
        match store.start_remote_session(&record, Some(self.session.epochs.user), &events).await {
            Ok(()) => {}
            Err(StartError::NoSuchDevice) => {
                return Err(ApiError::NotFound { message: "That device is not in your account.".into() });
            }
            Err(StartError::SessionEnded) => {
                // Ended by a Disable or Reset; deleting it is only tidying.
                if let Err(err) = store.delete_session(token_hash).await {
                    tracing::warn!(error = %err, "could not delete an ended session");
                }
                request::clear_session_cookie();
                return Err(request::session_ended(domain::session::Ended::TwoFactorChanged));
            }
            Err(StartError::Store(e)) => return Err(store_failure(e)),
        }
        let started_at = self.now.seconds();
        Ok(RemoteStart::Started(StartedSession {
            session_id: record.id,
            device_id: self.device_id,
            kind: self.kind,
            started_at,
        }))
    }
}

/// A random 128-bit id (32 hex digits) for a remote session.
fn random_id() -> String {
    domain::secret::BearerToken::generate().expose()[..32].to_owned()
}

pub async fn activate_now() -> Result<(), ApiError> {
    let ctx = ctx();
    let ip = request::client_ip();
    let user = require_user(&ctx).await?;
    if user.two_factor.activated_at.is_none() {
        ctx.store.enable_two_factor(&user, &user.id, now()).await.map_err(store_failure)?;
        audit::record(
            &ctx,
            None,
            &user,
            AuditAction::ActivateNow,
            &ip,
            "chose Activate Now at the remote-session prompt",
        )
        .await;
    }
    if let Some(token) = request::session_token() {
        ctx.store.delete_session(&token.hash()).await.map_err(store_failure)?;
    }
    request::clear_session_cookie();
    Ok(())
}
