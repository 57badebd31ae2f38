"""Keeping trends current: stale marks, set-based recomputes and reading them back."""
import gc
from contextlib import contextmanager

from sqlalchemy import bindparam, delete, exists, or_, select, update

from server.clinical.protocols import in_time_order
from server.clinical.trends import (
    MEASURE_INDEX,
    MEASURES,
    Reading,
    TreatmentFacts,
    patient_trends,
)
from server.clock import utcnow
from server.extensions import db
from server.models import CheckIn, Patient, Treatment, Trend, TrendState
from server.services import events
from server.services.bulk import dialect_insert
from server.services.records import insert_ignoring_duplicates

# Patients recomputed per transaction: one load of their data and one bulk write each.
CHUNK_SIZE = 1000
MEASURE_ORDER = {(m.instrument, m.score_name): n for n, m in enumerate(MEASURES)}
SUBSCORES = sorted({m.subscore for m in MEASURES if m.subscore})
# Stored as computed and shown as stored.
SUMMARY_FIELDS = (
    "change",
    "pct_change",
    "status",
    "rci",
    "reliable_change",
    "immpact_band",
    "slope_per_30d",
    "slope_se",
    "n_points",
)


def mark_stale(patient_id):
    """Mark a patient's trends stale, inside the caller's transaction.

    New and voided check-ins need no mark: they advance the patient's change
    sequence past the one the trends were computed from (see is_stale).
    """
    db.session.execute(
        dialect_insert(TrendState)
        .values(patient_id=patient_id, stale=True)
        .on_conflict_do_update(index_elements=["patient_id"], set_={"stale": True})
    )


def is_stale():
    """A condition on TrendState joined to Patient: marked, or check-ins changed since."""
    return or_(TrendState.stale, TrendState.computed_seq < Patient.checkin_seq)


def stale_patient_ids(patients=None):
    """Ids of the patients whose trends are stale, among a select of patients if given."""
    query = select(TrendState.patient_id).join(Patient, Patient.id == TrendState.patient_id)
    if patients is not None:
        ids = patients.with_only_columns(Patient.id).subquery()
        query = query.where(TrendState.patient_id.in_(select(ids.c.id)))
    return db.session.scalars(query.where(is_stale())).all()


@events.treatment_saved.connect
def _on_treatment_saved(treatment, created, changed):
    mark_stale(treatment.patient_id)


@events.patient_changed.connect
def _on_patient_changed(patient, changed):
    # Check-ins fall on local days: a new time zone can move them across a window edge.
    if "timezone" in changed:
        mark_stale(patient.id)


def _series(points):
    """Stored compactly as [at, days from treatment, value] lists: JSON is much of a write."""
    return [[point.at.isoformat(), point.days, point.value] for point in points]


def _timepoints(timepoints):
    """Stored compactly as {label: [value, days from treatment] or null}."""
    return {label: point and [point.value, point.days] for label, point in timepoints.items()}


def _rows(patient_id, treatment_trends, now):
    """The trends table rows of one patient's computed trends."""
    last = treatment_trends[-1].treatment.id if treatment_trends else None
    rows = []
    for treatment_trend in treatment_trends:
        for trend in treatment_trend.measures:
            baseline, latest = trend.baseline, trend.latest
            rows.append(
                {
                    "patient_id": patient_id,
                    "treatment_id": treatment_trend.treatment.id,
                    "current": treatment_trend.treatment.id == last,
                    "instrument": trend.measure.instrument,
                    "score_name": trend.measure.score_name,
                    "baseline_value": baseline.value if baseline else None,
                    "baseline_at": baseline.at if baseline else None,
                    "latest_value": latest.value if latest else None,
                    "latest_at": latest.at if latest else None,
                    "latest_days": latest.days if latest else None,
                    **{name: getattr(trend, name) for name in SUMMARY_FIELDS},
                    "timepoints": _timepoints(trend.timepoints),
                    "series": _series(trend.series),
                    "computed_at": now,
                }
            )
    return rows


def _load(patient_ids):
    """Each patient's time zone, treatments and readings, and the change sequence they were
    read at: three queries for the whole chunk."""
    # The sequence is read before the readings: a check-in committed in between is then
    # loaded yet still counts as newer, which costs one spare recompute, never a missed one.
    people = db.session.execute(
        select(Patient.id, Patient.timezone, Patient.checkin_seq).where(Patient.id.in_(patient_ids))
    ).all()
    data = {patient_id: (timezone, [], []) for patient_id, timezone, _ in people}
    seqs = {patient_id: seq for patient_id, _, seq in people}
    for patient_id, *facts in db.session.execute(
        select(
            Treatment.patient_id,
            Treatment.id,
            Treatment.kind,
            Treatment.performed_on,
            Treatment.protocol,
        ).where(Treatment.patient_id.in_(patient_ids))
    ):
        data[patient_id][1].append(TreatmentFacts(*facts))
    # Only the subscores trends follow, read out of the JSON by the database.
    subscores = [CheckIn.subscores[key].as_float() for key in SUBSCORES]
    readings = db.session.execute(
        select(
            CheckIn.patient_id,
            CheckIn.instrument,
            CheckIn.completed_at,
            CheckIn.score,
            CheckIn.scorable,
            CheckIn.voided_at.is_not(None),
            *subscores,
        ).where(CheckIn.patient_id.in_(patient_ids), CheckIn.instrument.in_(MEASURE_INDEX))
    )
    for patient_id, instrument, completed_at, score, scorable, voided, *values in readings:
        data[patient_id][2].append(
            Reading(instrument, completed_at, score, dict(zip(SUBSCORES, values)), scorable, voided)
        )
    return data, seqs


@contextmanager
def collector_paused():
    """Pause the cycle collector while building many objects that form no cycles.

    The collections those objects would trigger cost about a third of a full recompute.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _recompute_chunk(patient_ids, now):
    """Recompute and store the trends of up to CHUNK_SIZE patients, in the open transaction."""
    # Lock the markers first: a treatment change meanwhile marks its patient stale again
    # only after this transaction, and two recomputes of one patient take turns.
    locked = set(
        db.session.scalars(
            select(TrendState.patient_id)
            .where(TrendState.patient_id.in_(patient_ids))
            .order_by(TrendState.patient_id)
            .with_for_update()
        )
    )
    rows = []
    with collector_paused():
        data, seqs = _load(patient_ids)
        for patient_id, (timezone, treatments, readings) in data.items():
            rows.extend(_rows(patient_id, patient_trends(treatments, readings, timezone), now))
        db.session.execute(delete(Trend).where(Trend.patient_id.in_(patient_ids)))
        if rows:
            db.session.execute(Trend.__table__.insert(), rows)
    states = TrendState.__table__
    if locked:
        db.session.execute(
            update(states)
            .where(states.c.patient_id == bindparam("id"))
            .values(stale=False, computed_at=now, computed_seq=bindparam("seq")),
            [{"id": patient_id, "seq": seqs.get(patient_id, 0)} for patient_id in locked],
        )
    missing = [
        {
            "patient_id": patient_id,
            "stale": False,
            "computed_at": now,
            "computed_seq": seqs.get(patient_id, 0),
        }
        for patient_id in patient_ids
        if patient_id not in locked
    ]
    if missing:
        db.session.execute(insert_ignoring_duplicates(TrendState).values(missing))


def _chunks(ids):
    for start in range(0, len(ids), CHUNK_SIZE):
        yield ids[start : start + CHUNK_SIZE]


def recompute(patient_ids, now=None):
    """Recompute these patients' trends, committing after each chunk; returns how many."""
    ids = sorted(set(patient_ids))
    for chunk in _chunks(ids):
        _recompute_chunk(chunk, now or utcnow())
        db.session.commit()
    return len(ids)


def recompute_all():
    """Recompute every patient's trends."""
    return recompute(db.session.scalars(select(Patient.id)).all())


def recompute_stale(now):
    """The recompute-trends job: every patient whose trends went stale since the last run."""
    return {"recomputed": recompute(stale_patient_ids(), now)}


def refresh_stale_among(patients):
    """Recompute the stale ones among a select of patients, before a view reads them."""
    recompute(stale_patient_ids(patients))


def _fresh_state(patient):
    """The patient's trend state, recomputed first when stale or never computed."""
    state = db.session.get(TrendState, patient.id)
    if state is None or stale_patient_ids(select(Patient).where(Patient.id == patient.id)):
        recompute([patient.id])
        state = db.session.get(TrendState, patient.id, populate_existing=True)
    return state


def _measure(trend):
    instrument = MEASURES[MEASURE_ORDER[(trend.instrument, trend.score_name)]].definition
    return {
        "instrument": trend.instrument,
        "score_name": trend.score_name,
        "direction": instrument.direction,
        "baseline": (
            {"value": trend.baseline_value, "at": trend.baseline_at}
            if trend.baseline_value is not None
            else None
        ),
        "latest": (
            {
                "value": trend.latest_value,
                "at": trend.latest_at,
                "days_from_treatment": trend.latest_days,
            }
            if trend.latest_value is not None
            else None
        ),
        "timepoints": {
            label: point and point[0] for label, point in in_time_order(trend.timepoints)
        },
        **{name: getattr(trend, name) for name in SUMMARY_FIELDS},
        "series": [
            {"at": at, "days_from_treatment": days, "value": value}
            for at, days, value in trend.series
        ],
    }


def trends_of(patient):
    """A patient's trends per treatment, recomputed first when stale."""
    state = _fresh_state(patient)
    by_treatment = {}
    for trend in db.session.scalars(select(Trend).where(Trend.patient_id == patient.id)):
        by_treatment.setdefault(trend.treatment_id, []).append(trend)
    treatments = []
    for treatment in patient.treatments:
        rows = sorted(
            by_treatment.get(treatment.id, []),
            key=lambda t: MEASURE_ORDER[(t.instrument, t.score_name)],
        )
        treatments.append(
            {
                "treatment_id": treatment.id,
                "kind": treatment.kind,
                "performed_on": treatment.performed_on,
                "measures": [_measure(trend) for trend in rows],
            }
        )
    db.session.commit()
    return {"patient_id": patient.id, "computed_at": state.computed_at, "treatments": treatments}


def _current_change(status):
    return exists().where(
        Trend.patient_id == Patient.id,
        Trend.current,
        Trend.status == status,
        Trend.reliable_change.is_(True),
    )


def is_worsening():
    """A condition on Patient: worse beyond measurement error since the latest treatment."""
    return _current_change("worsened")


def is_improving():
    """A condition on Patient: better beyond measurement error since the latest treatment."""
    return _current_change("improved")
