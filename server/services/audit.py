"""Writing the audit trail: one event per access, sign-in, enrollment or revocation."""
from sqlalchemy import bindparam, insert, select

from server.clock import utcnow
from server.extensions import db
from server.models import AuditEvent
from server.services.pagination import paginate

# Built once: audit rows are written on hot paths and never read back here.
INSERT_EVENTS = insert(AuditEvent.__table__)
FIELDS = (
    "at", "organization_id", "actor_id", "actor_role", "patient_id", "action", "outcome", "ip",
)


def event(principal, action, patient_id=None, outcome="success"):
    """One audit event as a row of FIELDS: who acted, from where, on whom, and how it ended."""
    return {
        "at": utcnow(),
        "organization_id": principal.organization_id,
        "actor_id": principal.actor_id,
        "actor_role": principal.role,
        "patient_id": patient_id,
        "action": action,
        "outcome": outcome,
        "ip": principal.ip,
    }


def insert_per_row(source):
    """An INSERT of one audit event per row of `source`, its FIELDS bound as audit_<field>
    (bound() gives those parameters)."""
    table = AuditEvent.__table__
    row = select(*[bindparam(f"audit_{name}", type_=table.c[name].type) for name in FIELDS])
    return insert(table).from_select(FIELDS, row.select_from(source))


def bound(audit_event):
    """An audit event as the parameters of insert_per_row."""
    return {f"audit_{name}": value for name, value in audit_event.items()}


def insert_events(events):
    """Add these audit events to the current transaction."""
    if events:
        db.session.execute(INSERT_EVENTS, events)


def record(principal, action, patient_id=None, outcome="success"):
    """Add one audit event to the current transaction."""
    insert_events([event(principal, action, patient_id, outcome)])


def record_many(principal, action, patient_ids):
    """One event per patient whose data a listing showed."""
    insert_events([event(principal, action, patient_id) for patient_id in patient_ids])


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
    return paginate(
        query, args["page"], args["per_page"], AuditEvent.at.desc(), AuditEvent.id.desc()
    )
