"""Writing the audit trail: one event per access, sign-in, enrollment or revocation."""
from sqlalchemy import insert, select

from server.clock import utcnow
from server.extensions import client_ip, db
from server.models import AuditEvent
from server.services.pages import page_of

# Built once: audit rows are written on hot paths and never read back here.
INSERT_EVENTS = insert(AuditEvent.__table__)


def _event(principal, action, patient_id, outcome, ip):
    return {
        "at": utcnow(),
        "organization_id": principal.organization_id if principal else None,
        "actor_id": principal.actor_id if principal else None,
        "actor_role": principal.role if principal else "anonymous",
        "patient_id": patient_id,
        "action": action,
        "outcome": outcome,
        "ip": ip,
    }


def _insert(events):
    db.session.execute(INSERT_EVENTS, events)


def record(principal, action, patient_id=None, outcome="success"):
    """Add one audit event to the current transaction."""
    _insert([_event(principal, action, patient_id, outcome, client_ip())])


def record_many(principal, action, patient_ids):
    """One event per patient whose data a listing showed."""
    ip = client_ip()
    events = [_event(principal, action, patient_id, "success", ip) for patient_id in patient_ids]
    if events:
        _insert(events)


def list_events(principal, args):
    """One page of the organization's audit trail, newest first."""
    query = select(AuditEvent).where(AuditEvent.organization_id == principal.organization_id)
    filters = {
        "patient_id": AuditEvent.patient_id,
        "actor_id": AuditEvent.actor_id,
        "action": AuditEvent.action,
    }
    for name, column in filters.items():
        if args.get(name) is not None:
            query = query.where(column == args[name])
    if args.get("from_"):
        query = query.where(AuditEvent.at >= args["from_"])
    if args.get("to"):
        query = query.where(AuditEvent.at < args["to"])
    return page_of(
        query, args["page"], args["per_page"], AuditEvent.at.desc(), AuditEvent.id.desc()
    )
