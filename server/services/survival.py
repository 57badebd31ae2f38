"""Time from each treatment to a later surgery, or to a serious adverse event, over the cohort."""
from collections import defaultdict

from sqlalchemy import func, select

from server.clinical.reminders import local_date
from server.clinical.survival import REPORT_DAYS, estimate_at, kaplan_meier, observation
from server.extensions import db
from server.models import AdverseEvent, CheckIn, Patient, Treatment
from server.services import audit
from server.services.bulk import id_in
from server.services.cohort import SURGERY, visible_ids, with_filters
from server.vocabulary import FLAGGING_SEVERITIES

EVENTS = ("surgery", "serious_adverse_event")


def _last_contacts(zones):
    """Each patient's local date of their latest check-in that was not voided."""
    rows = db.session.execute(
        select(CheckIn.patient_id, func.max(CheckIn.completed_at))
        .where(id_in(CheckIn.patient_id, list(zones)), CheckIn.voided_at.is_(None))
        .group_by(CheckIn.patient_id)
    )
    return {patient_id: local_date(at, zones[patient_id]) for patient_id, at in rows}


def _event_dates(event, patient_ids):
    """Per patient, the dates on which the event happened, in order."""
    if event == "surgery":
        query = select(Treatment.patient_id, Treatment.performed_on).where(Treatment.kind == SURGERY)
        column = Treatment.patient_id
    else:
        query = select(AdverseEvent.patient_id, AdverseEvent.onset_on).where(
            AdverseEvent.severity.in_(FLAGGING_SEVERITIES)
        )
        column = AdverseEvent.patient_id
    dates = defaultdict(list)
    for patient_id, day in db.session.execute(query.where(id_in(column, patient_ids))):
        dates[patient_id].append(day)
    return {patient_id: sorted(days) for patient_id, days in dates.items()}


def _groups(anchors):
    """The treatments of each group: per kind, and per cell source within cell therapy."""
    groups = defaultdict(list)
    for row in anchors:
        groups[(row.kind, None)].append(row)
        if row.cell_source:
            groups[(row.kind, row.cell_source)].append(row)
    return groups


def _summary(kind, cell_source, observations):
    steps = kaplan_meier(observations)
    return {
        "treatment_kind": kind,
        "cell_source": cell_source,
        "n": len(observations),
        "events": sum(happened for _, happened in observations),
        "at": {label: {"days": days, **estimate_at(steps, days)} for label, days in REPORT_DAYS.items()},
        "curve": [
            {
                "days": step.time,
                "at_risk": step.at_risk,
                "events": step.events,
                "censored": step.censored,
                "survival": step.survival,
                "ci_low": step.ci_low,
                "ci_high": step.ci_high,
            }
            for step in steps
        ],
    }


def time_to_event(principal, args):
    """Kaplan–Meier estimates per treatment kind (and cell source) over the patients you may see.

    For surgery the anchors are the non-surgical treatments; for a serious adverse event, all.
    """
    event = args.get("event", "surgery")
    query = with_filters(
        select(
            Treatment.patient_id,
            Treatment.kind,
            Treatment.cell_source,
            Treatment.performed_on,
            Patient.timezone,
        )
        .join(Patient, Patient.id == Treatment.patient_id)
        .where(Treatment.patient_id.in_(visible_ids(principal))),
        args,
    )
    if event == "surgery":
        query = query.where(Treatment.kind != SURGERY)
    anchors = db.session.execute(query.order_by(Treatment.kind, Treatment.id)).all()
    zones = {row.patient_id: row.timezone for row in anchors}
    patient_ids = sorted(zones)
    contacts = _last_contacts(zones) if zones else {}
    happened = _event_dates(event, patient_ids) if patient_ids else {}
    groups = []
    for (kind, cell_source), rows in sorted(
        _groups(anchors).items(), key=lambda item: (item[0][0], item[0][1] or "")
    ):
        observations = [
            observation(
                row.performed_on, happened.get(row.patient_id, ()), contacts.get(row.patient_id), event
            )
            for row in rows
        ]
        groups.append(_summary(kind, cell_source, observations))
    audit.record(principal, "cohort.time_to_event.read")
    return {"event": event, "groups": groups}
