"""Two API instances and two schedulers against one PostgreSQL, under a check-in load with
reminders due and trends to recompute: no error, nothing twice, each trend recomputed once."""
import re
import threading
from collections import Counter

from sqlalchemy import select

from server.clock import utcnow
from server.extensions import db
from server.models import CheckIn, Notification
from server.services.trends import stale_patient_ids
from tests.builders import make_enrolled_patients, make_reminders_due, new_checkin, run_job_at
from tests.processes import (
    CheckInLoad,
    Gateway,
    Gunicorn,
    call,
    environment,
    migrated_app,
    run_once,
    scheduler,
    wait_until,
)

PATIENTS = 40


def recomputed(log):
    """The patients each recompute-trends run in this log says it recomputed, summed."""
    return sum(int(n) for n in re.findall(r"job recompute-trends done: \{'recomputed': (\d+)\}", log))


def replay_in_both(ports, token, body):
    """The same check-in posted to both instances at once, as an app retrying on another."""
    answers = []

    def post(port):
        answers.append(call(port, "POST", "/api/v1/me/checkins", body, {"Authorization": f"Bearer {token}"})[0])

    threads = [threading.Thread(target=post, args=(port,)) for port in ports]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    return sorted(answers)


def test_two_instances_and_two_schedulers_share_one_postgresql(throwaway_postgres, tmp_path):
    gateway = Gateway()
    settings = {"PUSH_GATEWAY_URL": gateway.url, "PUSH_GATEWAY_SECRET": "gateway-secret"}
    url = throwaway_postgres.create_database("scale_out")
    app = migrated_app(url, **settings)
    with app.app_context():
        made = make_enrolled_patients(app, PATIENTS, treated=True, push_token="push-token")
        make_reminders_due(utcnow())
        run_job_at(app, "recompute-trends", utcnow())  # trends current before the load
        db.engine.dispose()
    env = environment(DATABASE_URL=url, **settings)
    # Two planners at once (a scheduler's own first delivery may run before its first plan).
    planners = [run_once(env, "plan-reminders", tmp_path / f"plan-{n}.log") for n in range(2)]
    for process in planners:
        process.popen.wait(timeout=60)
        assert process.popen.returncode == 0, process.log()
    apis = [Gunicorn(env, tmp_path / f"api-{n}.log", workers=1, threads=2) for n in range(2)]
    ports = [api.port for api in apis]
    schedulers = []
    try:
        load = CheckInLoad(ports, [token for _, token in made], per_device=5, seconds=90).start()
        schedulers = [scheduler(env, tmp_path / f"scheduler-{n}.log") for n in range(2)]
        replays = [replay_in_both(ports, made[n][1], new_checkin()) for n in range(10)]
        load.join()
        wait_until(
            lambda: all("job recompute-trends done" in s.log() for s in schedulers), 30, "recomputes"
        )
        # One more check-in each, then the next recompute of both schedulers at once, as each
        # minute's would run (the schedulers' own next run is a minute away).
        again = CheckInLoad(ports, [token for _, token in made], per_device=1, seconds=30).start()
        again.join()
        with app.app_context():
            stale_before = len(stale_patient_ids())
            db.engine.dispose()
        finals = [run_once(env, "recompute-trends", tmp_path / f"final-{n}.log") for n in range(2)]
        for process in finals:
            process.popen.wait(timeout=60)
            assert process.popen.returncode == 0, process.log()
        wait_until(lambda: len(gateway.received()) >= PATIENTS, 30, "every reminder")
    finally:
        for process in schedulers + apis:
            process.stop()
        gateway.close()
    assert not load.failures and not again.failures, (load.failures + again.failures)[:3]
    assert replays == [[200, 201]] * len(replays)  # stored once, the other answer replays it
    with app.app_context():
        ids = db.session.scalars(select(CheckIn.id)).all()
        reminders = Counter(db.session.scalars(select(Notification.patient_id)))
        stale = len(stale_patient_ids())
        db.engine.dispose()
    assert len(ids) == len(set(ids)) == len(load.ids()) + len(again.ids()) + len(replays)
    # One reminder per patient, planned once and sent once, whichever scheduler took it.
    assert reminders == {patient_id: 1 for patient_id, _ in made}
    assert sorted(Counter(gateway.received()).values()) == [1] * PATIENTS
    # Every patient changed after the schedulers' first recompute; two runs at once share them.
    assert stale_before == PATIENTS
    assert sum(recomputed(process.log()) for process in finals) == stale_before
    assert stale == 0
    for log in [s.log() for s in schedulers] + [a.log() for a in apis] + [f.log() for f in finals]:
        assert "Traceback" not in log
