"""Storing computed trends: each chunk of patients loaded, computed and written at once."""
import gc
import hashlib
from contextlib import contextmanager
from datetime import timezone

import orjson
from psycopg.types.json import set_json_dumps
from sqlalchemy import Integer, LargeBinary, bindparam, delete, func, or_, select, text, update
from sqlalchemy.dialects import postgresql

from server.clinical.trends import MEASURE_INDEX, MEASURES, Reading, TreatmentFacts, patient_trends
from server.clock import utcnow
from server.extensions import db
from server.models import CheckIn, Patient, Treatment, Trend, TrendState
from server.services.bulk import id_in, on_postgresql
from server.services.exactly_once import insert_ignoring_duplicates

# Patients recomputed per transaction: one load of their data and one bulk write each.
CHUNK_SIZE = 1000
SUBSCORES = sorted({m.subscore for m in MEASURES if m.subscore})
# The trends table's computed columns, each with the PostgreSQL type it travels as in a
# binary COPY; _rows fills them by name.
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


def _timepoints(timepoints):
    """Stored compactly as {label: [value, days from treatment] or null}."""
    return {label: point and [point.value, point.days] for label, point in timepoints.items()}


def _rows(patient_id, treatment_trends):
    """The trends table rows of one patient's computed trends, as {column: value}."""
    last = treatment_trends[-1].treatment.id if treatment_trends else None
    rows = []
    for treatment_trend in treatment_trends:
        treatment_id = treatment_trend.treatment.id
        for trend in treatment_trend.measures:
            baseline, latest, measure = trend.baseline, trend.latest, trend.measure
            rows.append(
                {
                    "patient_id": patient_id,
                    "treatment_id": treatment_id,
                    "current": treatment_id == last,
                    "instrument": measure.instrument,
                    "score_name": measure.score_name,
                    "baseline_value": baseline.value if baseline else None,
                    "baseline_at": baseline.at if baseline else None,
                    "latest_value": latest.value if latest else None,
                    "latest_at": latest.at if latest else None,
                    "latest_days": latest.days if latest else None,
                    "change": trend.change,
                    "pct_change": trend.pct_change,
                    "status": trend.status,
                    "rci": trend.rci,
                    "reliable_change": trend.reliable_change,
                    "immpact_band": trend.immpact_band,
                    "slope_per_30d": trend.slope_per_30d,
                    "slope_se": trend.slope_se,
                    "n_points": trend.n_points,
                    "timepoints": _timepoints(trend.timepoints),
                }
            )
    return rows


def _digest(rows):
    """A digest of a patient's trend rows, to tell whether a recompute changed any."""
    return hashlib.blake2b(orjson.dumps(rows), digest_size=16).digest()


def fetch(statement):
    """The statement's rows as plain tuples.

    On PostgreSQL straight from the driver: SQLAlchemy's row objects and type processing
    cost more than the trends computed from them. Instants then come in the session's
    time zone, not necessarily UTC.
    """
    result = db.session.connection().execute(statement)
    if not on_postgresql():
        return result.all()
    try:
        return result.cursor.fetchall()
    finally:
        result.close()


def load(patient_ids):
    """Each patient's time zone, treatments and readings, and the change sequence they were
    read at: three queries for the whole chunk."""
    # The sequence is read before the readings: a check-in committed in between is then
    # loaded yet still counts as newer, which costs one spare recompute, never a missed one.
    people = fetch(
        select(Patient.id, Patient.timezone, Patient.checkin_seq).where(
            id_in(Patient.id, patient_ids)
        )
    )
    data = {patient_id: (timezone, [], []) for patient_id, timezone, _ in people}
    seqs = {patient_id: seq for patient_id, _, seq in people}
    for patient_id, *facts in fetch(
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
    readings = fetch(
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
    if on_postgresql():
        cursor = db.session.connection().connection.driver_connection.cursor()
        set_json_dumps(orjson.dumps, context=cursor)  # the timepoints: faster than json.dumps
        names = ", ".join((*COLUMNS, "computed_at"))
        with cursor.copy(f"COPY trends ({names}) FROM STDIN (FORMAT BINARY)") as copy:
            copy.set_types([*COLUMNS.values(), "timestamptz"])
            for row in rows:
                copy.write_row([*(row[name] for name in COLUMNS), now])
    else:
        db.session.execute(Trend.__table__.insert(), [{**row, "computed_at": now} for row in rows])


def _mark_computed(locked, patient_ids, seqs, digests, now):
    """Record these patients' trends as computed now, from the sequences read."""
    states = TrendState.__table__
    if locked and on_postgresql():
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
        db.session.execute(insert_ignoring_duplicates(TrendState.__table__), missing)


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


def _lock_markers(patient_ids, claim):
    """Lock these patients' trend markers: {patient id: digest}.

    A treatment change meanwhile marks its patient stale again only after this transaction,
    and two recomputes of one patient take turns. A claim (the job's) skips markers another
    recompute holds and those no longer stale, so schedulers running at once share the stale
    patients and recompute each once per change.
    """
    query = select(TrendState.patient_id, TrendState.digest).where(
        id_in(TrendState.patient_id, patient_ids)
    )
    if claim:
        query = (
            query.join(Patient, Patient.id == TrendState.patient_id)
            .where(or_(TrendState.stale, TrendState.computed_seq < Patient.checkin_seq))
            .with_for_update(of=TrendState, skip_locked=True)
        )
    else:
        query = query.with_for_update()
    return dict(db.session.execute(query.order_by(TrendState.patient_id)).all())


def _recompute_chunk(patient_ids, now, claim=False):
    """Recompute the trends of up to CHUNK_SIZE patients, in the open transaction; only the
    patients whose trends came out different get their rows rewritten. Returns the ids done."""
    if claim and on_postgresql():
        # A job's chunk writes only rows derived from the check-ins, with the marks that say
        # they are current: a crash may lose the last chunks, which the next run then redoes,
        # so it need not wait for the WAL to reach the disk.
        db.session.execute(text("SET LOCAL synchronous_commit = off"))
    locked = _lock_markers(patient_ids, claim)
    if claim:
        patient_ids = sorted(locked)
        if not patient_ids:
            return []
    with collector_paused():
        data, seqs = load(patient_ids)
        digests, changed, rows = {}, [], []
        for patient_id, (zone, treatments, readings) in data.items():
            patient_rows = _rows(patient_id, patient_trends(treatments, readings, zone))
            digests[patient_id] = _digest(patient_rows)
            if locked.get(patient_id) != digests[patient_id]:
                changed.append(patient_id)
                rows.extend(patient_rows)
        _write(changed, rows, now)
    _mark_computed(locked, patient_ids, seqs, digests, now)
    return patient_ids


def recompute_in_chunks(patient_ids, now=None, claim=False):
    """Recompute these patients' trends in the open transaction, yielding the ids of each chunk.

    A job commits at each yield, and claims (see _lock_markers); a view just runs it to the
    end inside its unit of work.
    """
    ids = sorted(set(patient_ids))
    for start in range(0, len(ids), CHUNK_SIZE):
        chunk = ids[start : start + CHUNK_SIZE]
        yield _recompute_chunk(chunk, now or utcnow(), claim)


def recompute(patient_ids, now=None):
    """Recompute these patients' trends in the open transaction; returns how many."""
    return sum(len(chunk) for chunk in recompute_in_chunks(patient_ids, now))
