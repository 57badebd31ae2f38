"""Schedulers share the trend recompute: each claims stale patients with SKIP LOCKED."""
import threading
from datetime import date, datetime, timedelta, timezone

import pytest
from sqlalchemy import select, text

from server.extensions import db
from server.models import TrendState
from server.services import trend_store, trends
from tests.builders import make_organization, make_patient, record_checkin, record_treatment

UTC = timezone.utc
NOW = datetime(2025, 6, 1, 8, tzinfo=UTC)
PATIENTS = 12


@pytest.fixture
def stale_patients(app, clock, monkeypatch):
    """PATIENTS patients with a treatment and two check-ins each, all stale; chunks of 3."""
    clock.set_now(NOW)
    monkeypatch.setattr(trend_store, "CHUNK_SIZE", 3)
    with app.app_context():
        if db.engine.dialect.name != "postgresql":
            pytest.skip("SQLite has no row locks: run a single scheduler per SQLite database")
        organization = make_organization()
        ids = []
        for n in range(PATIENTS):
            patient = make_patient(organization)
            record_treatment(patient.id, date(2024, 3, 1))
            for days, back in ((-2, 8), (42, 4 + n % 3)):
                at = datetime(2024, 3, 1, 9, tzinfo=UTC) + timedelta(days=days)
                record_checkin(patient, "nrs_pain", {"back": back}, at)
            ids.append(patient.id)
        db.session.commit()
        assert sorted(trends.stale_patient_ids()) == ids
    return ids


def computed_by():
    """{patient id: the `now` its trends were computed as of}."""
    return dict(db.session.execute(select(TrendState.patient_id, TrendState.computed_at)).all())


@pytest.mark.postgresql_only
def test_a_second_scheduler_skips_the_patients_the_first_holds(app, stale_patients):
    first_now, second_now = NOW, NOW + timedelta(minutes=1)
    with app.app_context():
        first = trend_store.recompute_in_chunks(trends.stale_patient_ids(), first_now, claim=True)
        held = next(first)  # its first chunk claimed and computed, not yet committed
        assert held == stale_patients[:3]
        with app.app_context():  # another session: the second scheduler, while the first works
            assert trends.recompute_stale(second_now) == {"recomputed": PATIENTS - 3}
        db.session.commit()
        assert sum(len(chunk) for chunk in first) == 0  # the rest were done meanwhile
        db.session.commit()
        done = computed_by()
    assert {patient for patient, at in done.items() if at == first_now} == set(held)
    assert {patient for patient, at in done.items() if at == second_now} == set(
        stale_patients[3:]
    )
    with app.app_context():
        assert trends.stale_patient_ids() == []


@pytest.mark.postgresql_only
def test_two_schedulers_at_once_recompute_each_patient_once(app, stale_patients, monkeypatch):
    counts, errors, claimed = {}, [], []
    start = threading.Barrier(2)
    compute = trend_store.patient_trends

    def slow_compute(*args):
        claimed.append(threading.current_thread().name)
        threading.Event().wait(0.005)  # long enough for the other scheduler to claim meanwhile
        return compute(*args)

    monkeypatch.setattr(trend_store, "patient_trends", slow_compute)

    def scheduler():
        try:
            with app.app_context():
                start.wait()
                counts[threading.current_thread().name] = trends.recompute_stale(NOW)["recomputed"]
        except Exception as exc:  # reported below, not lost in the thread
            errors.append(exc)

    threads = [threading.Thread(target=scheduler, name=f"s{n}") for n in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    assert sum(counts.values()) == len(claimed) == PATIENTS
    assert all(count > 0 for count in counts.values()), counts
    with app.app_context():
        assert trends.stale_patient_ids() == []
        assert set(computed_by()) == set(stale_patients)


@pytest.mark.postgresql_only
def test_only_a_jobs_recompute_skips_waiting_for_the_wal(app, stale_patients):
    def setting():
        return db.session.execute(text("SHOW synchronous_commit")).scalar()

    with app.app_context():
        view = trend_store.recompute_in_chunks(stale_patients, NOW)
        next(view)
        assert setting() == "on"  # a view's unit of work also holds its audit events
        db.session.rollback()
        job = trend_store.recompute_in_chunks(stale_patients, NOW, claim=True)
        next(job)
        assert setting() == "off"
        db.session.commit()
        assert setting() == "on"  # for that chunk's transaction only
