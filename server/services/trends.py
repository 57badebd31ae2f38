"""Keeping trends current: stale marks, set-based recomputes and reading them back."""
import gc
import hashlib
from contextlib import contextmanager
from datetime import timezone

import orjson
from sqlalchemy import Integer, LargeBinary, bindparam, delete, exists, func, or_, select, update
from sqlalchemy.dialects import postgresql

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
from server.services.bulk import dialect_insert, id_in
from server.services.records import insert_ignoring_duplicates

# Patients recomputed per transaction: one load of their data and one bulk write each.
CHUNK_SIZE = 1000
SUBSCORES = sorted({m.subscore for m in MEASURES if m.subscore})
# Stored as computed and shown as computed.
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
# The trends table's computed columns in the order _rows fills them, with the PostgreSQL
# type each travels as in a binary COPY.
COLUMNS = {
    "patient_id": "int4",
    "treatment_id": "int4",
    "current": "bool",
    "instrument": "varchar",
    "score_name": "varchar",
    "baseline_value": "float8",
    "baseline_at": "timestamptz",
    "latest_value": "float8",
    "latest_at": "timestamptz",
    "latest_days": "int4",
    "change": "float8",
    "pct_change": "float8",
    "status": "varchar",
    "rci": "float8",
    "reliable_change": "bool",
    "immpact_band": "varchar",
    "slope_per_30d": "float8",
    "slope_se": "float8",
    "n_points": "int4",
    "timepoints": "jsonb",
}
UTC = timezone.utc


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


def _timepoints(timepoints):
    """Stored compactly as {label: [value, days from treatment] or null}."""
    return {label: point and [point.value, point.days] for label, point in timepoints.items()}


def _rows(patient_id, treatment_trends):
    """The trends table rows of one patient's computed trends, as tuples in COLUMNS order."""
    last = treatment_trends[-1].treatment.id if treatment_trends else None
    rows = []
    for treatment_trend in treatment_trends:
        treatment_id = treatment_trend.treatment.id
        for trend in treatment_trend.measures:
            baseline, latest, measure = trend.baseline, trend.latest, trend.measure
            rows.append(
                (
                    patient_id,
                    treatment_id,
                    treatment_id == last,
                    measure.instrument,
                    measure.score_name,
                    baseline.value if baseline else None,
                    baseline.at if baseline else None,
                    latest.value if latest else None,
                    latest.at if latest else None,
                    latest.days if latest else None,
                    trend.change,
                    trend.pct_change,
                    trend.status,
                    trend.rci,
                    trend.reliable_change,
                    trend.immpact_band,
                    trend.slope_per_30d,
                    trend.slope_se,
                    trend.n_points,
                    _timepoints(trend.timepoints),
                )
            )
    return rows


def _digest(rows):
    """A digest of a patient's trend rows, to tell whether a recompute changed any."""
    return hashlib.blake2b(orjson.dumps(rows), digest_size=16).digest()


def _on_postgresql():
    return db.session.get_bind().dialect.name == "postgresql"


def _fetch(statement):
    """The statement's rows as plain tuples.

    On PostgreSQL straight from the driver: SQLAlchemy's row objects and type processing
    cost more than the trends computed from them. Instants then come in the session's
    time zone, not necessarily UTC.
    """
    result = db.session.connection().execute(statement)
    if not _on_postgresql():
        return result.all()
    try:
        return result.cursor.fetchall()
    finally:
        result.close()


def _load(patient_ids):
    """Each patient's time zone, treatments and readings, and the change sequence they were
    read at: three queries for the whole chunk."""
    # The sequence is read before the readings: a check-in committed in between is then
    # loaded yet still counts as newer, which costs one spare recompute, never a missed one.
    people = _fetch(
        select(Patient.id, Patient.timezone, Patient.checkin_seq).where(
            id_in(Patient.id, patient_ids)
        )
    )
    data = {patient_id: (timezone, [], []) for patient_id, timezone, _ in people}
    seqs = {patient_id: seq for patient_id, _, seq in people}
    for patient_id, *facts in _fetch(
        select(
            Treatment.patient_id,
            Treatment.id,
            Treatment.kind,
            Treatment.performed_on,
            Treatment.protocol,
        ).where(id_in(Treatment.patient_id, patient_ids))
    ):
        data[patient_id][1].append(TreatmentFacts(*facts))
    # Only the readings trends count, with only the subscores they follow, read out of
    # the JSON by the database.
    readings = _fetch(
        select(
            CheckIn.patient_id,
            CheckIn.instrument,
            CheckIn.completed_at,
            CheckIn.score,
            *[CheckIn.subscores[key].as_float() for key in SUBSCORES],
        ).where(
            id_in(CheckIn.patient_id, patient_ids),
            CheckIn.instrument.in_(MEASURE_INDEX),
            CheckIn.voided_at.is_(None),
            CheckIn.scorable,
        )
    )
    absent = [None] * len(SUBSCORES)
    for patient_id, instrument, completed_at, score, *values in readings:
        subscores = {} if values == absent else dict(zip(SUBSCORES, values))
        data[patient_id][2].append(
            Reading(instrument, completed_at.astimezone(UTC), score, subscores)
        )
    return data, seqs


def _write(patient_ids, rows, now):
    """Replace these patients' trend rows with these."""
    if patient_ids:
        db.session.execute(delete(Trend).where(id_in(Trend.patient_id, patient_ids)))
    if not rows:
        return
    if _on_postgresql():
        cursor = db.session.connection().connection.driver_connection.cursor()
        names = ", ".join((*COLUMNS, "computed_at"))
        with cursor.copy(f"COPY trends ({names}) FROM STDIN (FORMAT BINARY)") as copy:
            copy.set_types([*COLUMNS.values(), "timestamptz"])
            for row in rows:
                copy.write_row((*row, now))
    else:
        db.session.execute(
            Trend.__table__.insert(),
            [{**dict(zip(COLUMNS, row)), "computed_at": now} for row in rows],
        )


def _mark_computed(locked, patient_ids, seqs, digests, now):
    """Record these patients' trends as computed now, from the sequences read."""
    states = TrendState.__table__
    if locked and _on_postgresql():
        ids = sorted(locked)
        source = (
            func.unnest(
                bindparam("ids", ids, type_=postgresql.ARRAY(Integer)),
                bindparam("seqs", [seqs.get(i, 0) for i in ids], type_=postgresql.ARRAY(Integer)),
                bindparam(
                    "digests", [digests.get(i) for i in ids], type_=postgresql.ARRAY(LargeBinary)
                ),
            )
            .table_valued("patient_id", "seq", "digest")
            .render_derived(name="computed")
        )
        db.session.execute(
            update(states)
            .where(states.c.patient_id == source.c.patient_id)
            .values(
                stale=False, computed_at=now, computed_seq=source.c.seq, digest=source.c.digest
            )
        )
    elif locked:
        db.session.execute(
            update(states)
            .where(states.c.patient_id == bindparam("id"))
            .values(
                stale=False,
                computed_at=now,
                computed_seq=bindparam("seq"),
                digest=bindparam("new_digest"),
            ),
            [{"id": i, "seq": seqs.get(i, 0), "new_digest": digests.get(i)} for i in locked],
        )
    missing = [
        {
            "patient_id": patient_id,
            "stale": False,
            "computed_at": now,
            "computed_seq": seqs.get(patient_id, 0),
            "digest": digests.get(patient_id),
        }
        for patient_id in patient_ids
        if patient_id not in locked
    ]
    if missing:
        db.session.execute(insert_ignoring_duplicates(TrendState).values(missing))


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
    """Recompute the trends of up to CHUNK_SIZE patients, in the open transaction; only the
    patients whose trends came out different get their rows rewritten."""
    # Lock the markers first: a treatment change meanwhile marks its patient stale again
    # only after this transaction, and two recomputes of one patient take turns.
    locked = dict(
        db.session.execute(
            select(TrendState.patient_id, TrendState.digest)
            .where(id_in(TrendState.patient_id, patient_ids))
            .order_by(TrendState.patient_id)
            .with_for_update()
        ).all()
    )
    with collector_paused():
        data, seqs = _load(patient_ids)
        digests, changed, rows = {}, [], []
        for patient_id, (timezone, treatments, readings) in data.items():
            patient_rows = _rows(patient_id, patient_trends(treatments, readings, timezone))
            digests[patient_id] = _digest(patient_rows)
            if locked.get(patient_id) != digests[patient_id]:
                changed.append(patient_id)
                rows.extend(patient_rows)
        _write(changed, rows, now)
    _mark_computed(locked, patient_ids, seqs, digests, now)


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
    data, _ = _load([patient.id])
    timezone, treatments, readings = data[patient.id]
    db.session.commit()
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
