"""The sign-in limit counted in Redis holds exactly across two gunicorn worker processes."""
import os
import signal
import socket
import uuid
from contextlib import contextmanager
from urllib.parse import urlsplit

import pytest

from server.extensions import db
from tests.builders import PASSWORD, make_organization, make_staff
from tests.processes import Gunicorn, call, environment, migrated_app

REDIS_URL = os.environ.get("BACKTRACK_TEST_REDIS_URL", "redis://127.0.0.1:6379/5")


def redis_answers(url):
    parts = urlsplit(url)
    try:
        with socket.create_connection((parts.hostname, parts.port or 6379), timeout=2) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(16).startswith(b"+PONG")
    except OSError:
        return False


@pytest.fixture
def redis_url():
    if not redis_answers(REDIS_URL):
        if os.environ.get("CI"):
            pytest.fail(f"CI needs Redis at {REDIS_URL} for the cross-worker rate-limit test")
        pytest.skip(f"no Redis at {REDIS_URL}")
    return REDIS_URL


@contextmanager
def only(api, worker):
    """Every other worker stopped (SIGSTOP), so the next requests reach this one."""
    others = [pid for pid in api.worker_pids() if pid != worker]
    for pid in others:
        os.kill(pid, signal.SIGSTOP)
    try:
        yield
    finally:
        for pid in others:
            os.kill(pid, signal.SIGCONT)


def served_by(api, worker):
    return f"access pid=<{worker}> " in api.log()


def test_the_sign_in_limit_holds_exactly_across_two_gunicorn_workers(redis_url, tmp_path):
    url = "sqlite:///" + str(tmp_path / "backtrack.sqlite3")
    app = migrated_app(url)
    with app.app_context():
        email = make_staff(make_organization()).email
        db.session.commit()
        db.engine.dispose()
    env = environment(
        DATABASE_URL=url,
        RATELIMIT_STORAGE_URI=redis_url,
        RATELIMIT_KEY_PREFIX=f"backtrack-test-{uuid.uuid4().hex}",  # counters of this run only
        LOGIN_FAILURE_LIMIT="5 per minute",
    )
    api = Gunicorn(env, tmp_path / "api.log", workers=2)
    try:
        first, second = api.worker_pids()

        def attempt(password="wrong password"):
            body = {"email": email, "password": password}
            return call(api.port, "POST", "/api/v1/auth/login", body)

        with only(api, first):  # three failures in the first worker
            statuses = [attempt()[0] for _ in range(3)]
        with only(api, second):  # two in the second, then the sixth
            statuses += [attempt()[0] for _ in range(3)]
        with only(api, first):  # back in the first: still limited, even the right password
            status, headers, body = attempt(PASSWORD)
            statuses.append(status)
    finally:
        api.stop()
    assert statuses == [401] * 5 + [429] * 2
    assert body["code"] == 429 and int(headers["Retry-After"]) > 0
    assert served_by(api, first) and served_by(api, second)
    assert headers["Server"] == "gunicorn"  # no version
    assert headers["X-Content-Type-Options"] == "nosniff"
