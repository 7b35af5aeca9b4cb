//! Writing security events. An audit write that fails is logged loudly but does not undo or
//! refuse what the user did.

use domain::audit::AuditAction;
use store::{AuditEvent, Operation, User};

use super::{Ctx, now};

/// What writing an event here runs.
pub const STORE_OPERATIONS: &[Operation] = &[Operation::RecordAudit];

/// `actor` (None: the user themselves) did `action` to `subject` from `ip`.
pub async fn record(
    ctx: &Ctx,
    actor: Option<&User>,
    subject: &User,
    action: AuditAction,
    ip: &str,
    detail: &str,
) {
    let actor_id = actor.unwrap_or(subject).id.as_str();
    write(ctx, &event(&subject.account_id, actor_id, &subject.id, action, ip, detail)).await;
}

/// Writes one event; a failure is logged, never returned.
pub async fn write(ctx: &Ctx, event: &AuditEvent) {
    if let Err(err) = ctx.store.record_audit(event).await {
        tracing::error!(error = %err, action = %event.action, "audit write failed");
    }
}

pub fn event(
    account_id: &str,
    actor_id: &str,
    subject_id: &str,
    action: AuditAction,
    ip: &str,
    detail: &str,
) -> AuditEvent {
    AuditEvent {
        account_id: account_id.to_owned(),
        actor_user_id: Some(actor_id.to_owned()),
        subject_user_id: Some(subject_id.to_owned()),
        action: action.code().to_owned(),
        client_ip: ip.to_owned(),
        at: now(),
        detail: detail.to_owned(),
        device_id: None,
        keep_until: None,
    }
}
