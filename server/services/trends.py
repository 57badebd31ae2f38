"""Keeping trends current: stale marks, recomputes when needed, and reading them back."""
from sqlalchemy import exists, or_, select

from server.clinical.protocols import in_time_order
from server.clinical.trends import patient_trends
from server.extensions import db
from server.models import Patient, Trend, TrendState
from server.services.bulk import dialect_insert
from server.services.trend_store import load, recompute, recompute_in_chunks

# The summary values a measure shows as computed (and the trends table stores).
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
    if patients is None:
        patients = select(Patient)
    # Joined straight to the select's patients: one pass over them, not one more to filter.
    query = patients.with_only_columns(Patient.id).join(
        TrendState, TrendState.patient_id == Patient.id
    )
    return db.session.scalars(query.where(is_stale())).all()


def on_treatment_saved(treatment, created, changed):
    """Any change to a treatment moves the patient's trends."""
    mark_stale(treatment.patient_id)


def on_patient_changed(patient, changed, principal=None):
    """A new time zone can move check-ins, which fall on local days, across a window edge."""
    if "timezone" in changed:
        mark_stale(patient.id)


def _recompute_committing(patient_ids, now=None, claim=False):
    """Recompute in chunks, each committed on its own, as jobs do; returns how many."""
    count = 0
    for chunk in recompute_in_chunks(patient_ids, now, claim):
        db.session.commit()
        count += len(chunk)
    return count


def recompute_all():
    """Recompute every patient's trends."""
    return _recompute_committing(db.session.scalars(select(Patient.id)).all())


def recompute_stale(now):
    """The recompute-trends job: every patient whose trends went stale since the last run."""
    return {"recomputed": _recompute_committing(stale_patient_ids(), now, claim=True)}


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
    """One measure's trend as the patient's view shows it."""
    baseline, latest = trend.baseline, trend.latest
    return {
        "instrument": trend.measure.instrument,
        "score_name": trend.measure.score_name,
        "direction": trend.measure.definition.direction,
        "baseline": {"value": baseline.value, "at": baseline.at} if baseline else None,
        "latest": (
            {"value": latest.value, "at": latest.at, "days_from_treatment": latest.days}
            if latest
            else None
        ),
        "timepoints": {
            label: point and point.value for label, point in in_time_order(trend.timepoints)
        },
        **{name: getattr(trend, name) for name in SUMMARY_FIELDS},
        "series": [
            {"at": point.at.isoformat(), "days_from_treatment": point.days, "value": point.value}
            for point in trend.series
        ],
    }


def trends_of(patient):
    """A patient's trends per treatment, recomputed first when stale.

    They are shown as computed from the patient's check-ins, which also gives the series
    the table does not keep; the stored rows hold the same values.
    """
    state = _fresh_state(patient)
    data, _ = load([patient.id])
    timezone, treatments, readings = data[patient.id]
    return {
        "patient_id": patient.id,
        "computed_at": state.computed_at,
        "treatments": [
            {
                "treatment_id": treatment_trend.treatment.id,
                "kind": treatment_trend.treatment.kind,
                "performed_on": treatment_trend.treatment.performed_on,
                "measures": [_measure(trend) for trend in treatment_trend.measures],
            }
            for treatment_trend in patient_trends(treatments, readings, timezone)
        ],
    }


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
