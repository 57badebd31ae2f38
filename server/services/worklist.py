"""The clinician's worklist: each visible patient's flags, latest scores and next follow-up."""
from sqlalchemy import and_, func, select
from sqlalchemy.orm import aliased

from server.clinical.reminders import local_date
from server.clinical.trends import find_measure
from server.clock import utcnow
from server.extensions import db
from server.models import Assessment, CheckIn, FollowUp, Patient, Treatment, Trend
from server.services import audit, trends
from server.services.access import visible_patients
from server.services.patients import FLAGS, matching
from server.services.schedules import PENDING, status_column

# The two scores a worklist row shows, each since the latest treatment's baseline.
ROW_MEASURES = {"nrs_back": find_measure("nrs_pain"), "odi": find_measure("odi")}
SCORE_FIELDS = ("latest_value", "change", "pct_change", "status", "reliable_change")


def _latest_treatment_id():
    """The id of the patient's latest treatment, the one whose trends are current."""
    return (
        select(Treatment.id)
        .where(Treatment.patient_id == Patient.id)
        .order_by(Treatment.performed_on.desc(), Treatment.id.desc())
        .limit(1)
        .correlate(Patient)
        .scalar_subquery()
    )


def _last_checkin_at():
    return (
        select(func.max(CheckIn.completed_at))
        .where(CheckIn.patient_id == Patient.id, CheckIn.voided_at.is_(None))
        .correlate(Patient)
        .scalar_subquery()
    )


def _filtered(principal, args):
    """The visible patients matching the search and the latest treatment's kind."""
    query = visible_patients(principal)
    if args.get("q"):
        query = query.where(matching(args["q"]))
    if args.get("treatment_kind"):
        kind = select(Treatment.kind).where(Treatment.id == _latest_treatment_id())
        query = query.where(kind.scalar_subquery() == args["treatment_kind"])
    return query


def _row_query(query):
    """The filtered patients with their latest treatment, scores, last check-in and flags."""
    latest = aliased(Treatment)
    scores = {name: aliased(Trend) for name in ROW_MEASURES}
    last_checkin = _last_checkin_at().label("last_checkin_at")
    query = query.outerjoin_from(Patient, latest, latest.id == _latest_treatment_id())
    for name, measure in ROW_MEASURES.items():
        trend = scores[name]
        query = query.outerjoin_from(
            Patient,
            trend,
            and_(
                trend.patient_id == Patient.id,
                trend.current,
                trend.instrument == measure.instrument,
                trend.score_name == measure.score_name,
            ),
        )
    columns = [
        latest.id.label("treatment_id"),
        latest.kind.label("treatment_kind"),
        latest.performed_on.label("performed_on"),
        last_checkin,
        *[getattr(scores[name], field).label(f"{name}_{field}") for name in scores for field in SCORE_FIELDS],
        *[condition().label(f"flag_{flag}") for flag, condition in FLAGS.items()],
    ]
    sorts = {
        "external_id": Patient.external_id,
        "name": Patient.display_name,
        "last_checkin": last_checkin,
        "treated_on": latest.performed_on,
        "odi_change": scores["odi"].change,
        "nrs_change": scores["nrs_back"].change,
    }
    return query.add_columns(*columns), sorts


def _ordering(sorts, sort):
    """ORDER BY for `name` or `-name`; rows without a value go last either way."""
    descending = sort.startswith("-")
    column = sorts[sort.lstrip("-")]
    return (column.is_(None), column.desc() if descending else column.asc(), Patient.id)


def _page(filtered, sort, limit, offset):
    """The page's rows: its patients found first by the sort alone, then only theirs computed
    (the flags and scores of 50 rows, not of every patient that matched)."""
    query, sorts = _row_query(filtered)
    ids = (
        query.with_only_columns(Patient.id)
        .order_by(*_ordering(sorts, sort))
        .limit(limit)
        .offset(offset)
        .subquery()
    )
    query, sorts = _row_query(select(Patient).join(ids, ids.c.id == Patient.id))
    return db.session.execute(query.order_by(*_ordering(sorts, sort))).all()


def next_due(patient_ids, now):
    """Per patient, the pending assessment due first: {patient_id: {...}}."""
    if not patient_ids:
        return {}
    status = status_column(now).label("status")
    rows = db.session.execute(
        select(Assessment.patient_id, Assessment.instrument, Assessment.due_at, FollowUp.time_point, status)
        .join(FollowUp, FollowUp.id == Assessment.follow_up_id)
        .where(Assessment.patient_id.in_(patient_ids), status.in_(PENDING))
        .order_by(Assessment.patient_id, Assessment.due_at, Assessment.id)
    )
    found = {}
    for patient_id, instrument, due_at, time_point, state in rows:
        found.setdefault(
            patient_id,
            {"time_point": time_point, "instrument": instrument, "due_at": due_at, "status": state},
        )
    return found


def _score(row, name):
    values = {field: getattr(row, f"{name}_{field}") for field in SCORE_FIELDS}
    if values["latest_value"] is None:
        return None
    return {"latest": values.pop("latest_value"), **values}


def _as_row(row, due, now):
    patient = row.Patient
    treatment = None
    if row.treatment_id is not None:
        days = (local_date(now, patient.timezone) - row.performed_on).days
        treatment = {
            "id": row.treatment_id,
            "kind": row.treatment_kind,
            "performed_on": row.performed_on,
            "days_since": days,
        }
    return {
        "patient_id": patient.id,
        "external_id": patient.external_id,
        "display_name": patient.display_name,
        "status": patient.status,
        "flags": [flag for flag in FLAGS if getattr(row, f"flag_{flag}")],
        "latest_treatment": treatment,
        "nrs_back": _score(row, "nrs_back"),
        "odi": _score(row, "odi"),
        "last_checkin_at": row.last_checkin_at,
        "next_due": due.get(patient.id),
    }


def worklist(principal, args):
    """One page of the caller's worklist, current as of now; audited per patient shown."""
    now = utcnow()
    filtered = _filtered(principal, args)
    trends.refresh_stale_among(filtered)
    if args.get("flag"):
        filtered = filtered.where(FLAGS[args["flag"]]())
    total = db.session.scalar(select(func.count()).select_from(filtered.subquery()))
    page, per_page = args["page"], args["per_page"]
    rows = _page(filtered, args["sort"], per_page, (page - 1) * per_page)
    ids = [row.Patient.id for row in rows]
    due = next_due(ids, now)
    audit.record_many(principal, "worklist.read", ids)
    return {
        "items": [_as_row(row, due, now) for row in rows],
        "page": page,
        "per_page": per_page,
        "total": total,
    }
