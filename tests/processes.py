"""Real processes for the fault and scale-out tests: a throwaway PostgreSQL server, gunicorn,
the scheduler and a push gateway, each bounded in time and stopped by the test that started it."""
import glob
import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
# What every server process gets: cheap hashing, development settings, nothing inherited.
PROCESS_SETTINGS = {
    "BACKTRACK_ENV": "development",
    "SECRET_KEY": "process-test-secret-" + "x" * 20,
    "PASSWORD_HASH_TIME_COST": "1",
    "PASSWORD_HASH_MEMORY_KIB": "1024",
    "RATELIMIT_STORAGE_URI": "memory://",
    "CHECKIN_RATE_LIMIT": "100000 per minute",
}


def free_port():
    """A TCP port on the loopback nobody listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def environment(**settings):
    """A process environment with only PATH, locale and the given Backtrack settings."""
    base = {name: os.environ[name] for name in ("PATH", "LANG", "TZ") if name in os.environ}
    return {**base, **PROCESS_SETTINGS, **{k: str(v) for k, v in settings.items()}}


def call(port, method, path, body=None, headers=None, timeout=10):
    """One HTTP request on a new connection: (status, headers, parsed JSON or None)."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        payload = json.dumps(body).encode() if body is not None else None
        sent = {"Content-Type": "application/json", **(headers or {})} if payload else headers or {}
        connection.request(method, path, body=payload, headers=sent)
        response = connection.getresponse()
        raw = response.read()
        is_json = response.getheader("Content-Type", "").startswith("application/json")
        return response.status, dict(response.getheaders()), json.loads(raw) if is_json else None
    finally:
        connection.close()


def wait_until(check, seconds, what):
    """Poll check() until it is true; fail after the given seconds."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.1)
    raise AssertionError(f"{what}: not within {seconds} s")


class Process:
    """A child process with its output in a file; stopped with SIGTERM, then SIGKILL."""

    def __init__(self, command, env, log_path):
        self.log_path = Path(log_path)
        self._log = open(self.log_path, "ab")
        self.popen = subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=self._log, stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def log(self):
        """Everything the process wrote so far."""
        return self.log_path.read_text(errors="replace")

    def kill(self):
        """SIGKILL, as a crash or the OOM killer would."""
        self.popen.kill()
        self.popen.wait(timeout=10)

    def stop(self, seconds=10):
        """SIGTERM and wait; SIGKILL if it does not end in time."""
        if self.popen.poll() is None:
            self.popen.send_signal(signal.SIGTERM)
            try:
                self.popen.wait(timeout=seconds)
            except subprocess.TimeoutExpired:
                self.kill()
        self._log.close()


class Gunicorn(Process):
    """The API under gunicorn on its own port; the access log names the worker pid."""

    def __init__(self, env, log_path, workers=2, threads=1):
        self.port = free_port()
        command = [
            str(BIN / "gunicorn"), "--bind", f"127.0.0.1:{self.port}", "--workers", str(workers),
            "--threads", str(threads), "--access-logfile", "-",
            "--access-logformat", "access pid=%(p)s status=%(s)s %(r)s", "wsgi:app",
        ]
        super().__init__(command, env, log_path)
        wait_until(self._answers, 30, f"gunicorn on {self.port}")

    def _answers(self):
        if self.popen.poll() is not None:
            raise AssertionError(f"gunicorn exited:\n{self.log()}")
        try:
            return call(self.port, "GET", "/healthz", timeout=2)[0] == 200
        except OSError:
            return False

    def worker_pids(self):
        """The pids of the master's worker processes."""
        path = Path(f"/proc/{self.popen.pid}/task/{self.popen.pid}/children")
        return sorted(int(pid) for pid in path.read_text().split())


def scheduler(env, log_path):
    """`flask jobs run`, the scheduler process as `make run` starts it."""
    return Process([str(BIN / "flask"), "--app", "wsgi", "jobs", "run"], env, log_path)


def run_once(env, job, log_path):
    """`flask jobs run-once JOB` started in the background."""
    return Process([str(BIN / "flask"), "--app", "wsgi", "jobs", "run-once", job], env, log_path)


class Gateway:
    """A local push gateway recording each request's Idempotency-Key, answering after a delay."""

    def __init__(self, delay=0.0):
        self.keys = []
        self.lock = threading.Lock()
        gateway = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                self.rfile.read(int(self.headers.get("Content-Length", 0)))
                time.sleep(delay)
                with gateway.lock:
                    gateway.keys.append(self.headers["Idempotency-Key"])
                self.send_response(202)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/push"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def received(self):
        with self.lock:
            return list(self.keys)

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def postgres_binaries():
    """The newest PostgreSQL server binaries installed, or None."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(p.split("/")[4]))
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


class ThrowawayPostgres:
    """A PostgreSQL server of the test's own: initdb into a temporary folder, its own port.

    As root the server runs as the postgres user (PostgreSQL refuses root).
    """

    def __init__(self, binaries):
        self.binaries = binaries
        self.port = free_port()
        self.folder = Path(tempfile.mkdtemp(prefix="backtrack-pg-"))
        self.data = self.folder / "data"
        self.as_user = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        if self.as_user:
            shutil.chown(self.folder, "postgres")
        self._run("initdb", "-D", self.data, "-U", "postgres", "--auth=trust", "-E", "UTF8")
        self.start()

    def _run(self, tool, *args, timeout=60):
        command = [*self.as_user, str(self.binaries / tool), *map(str, args)]
        subprocess.run(command, check=True, capture_output=True, timeout=timeout)

    def _pg_ctl(self, action, *args):
        options = f"-p {self.port} -c listen_addresses=127.0.0.1 -c unix_socket_directories={self.folder}"
        options += " -c fsync=off -c max_connections=60"
        self._run(
            "pg_ctl", action, "-D", self.data, "-w", "-t", "30", "-m", "fast",
            "-l", self.folder / "server.log", "-o", options, *args,
        )

    def start(self):
        self._pg_ctl("start")

    def restart(self):
        """Stop (fast: open connections are cut) and start again, as an operator would."""
        self._pg_ctl("restart")

    def url(self, database="postgres"):
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    def create_database(self, name):
        """A fresh, empty database on this server; returns its URL."""
        self._run("psql", "-h", "127.0.0.1", "-p", self.port, "-U", "postgres", "-q",
                  "-c", f"DROP DATABASE IF EXISTS {name}", "-c", f"CREATE DATABASE {name}")
        return self.url(name)

    def tool(self, name, *args, timeout=120):
        """Run one of the server's client tools (pg_dump, pg_restore) against this server."""
        self._run(name, "-h", "127.0.0.1", "-p", self.port, "-U", "postgres", *args, timeout=timeout)

    def close(self):
        try:
            self._run("pg_ctl", "stop", "-D", self.data, "-m", "immediate", "-w", timeout=30)
        finally:
            shutil.rmtree(self.folder, ignore_errors=True)


def migrated_app(url, **settings):
    """An app on the database at url, its schema migrated to head."""
    from flask_migrate import upgrade

    from server import create_app
    from server.extensions import db
    from tests.builders import TEST_SETTINGS

    app = create_app({**TEST_SETTINGS, "SQLALCHEMY_DATABASE_URI": url, **settings})
    with app.app_context():
        upgrade()
        db.session.remove()
    return app


class CheckInLoad:
    """Patients' apps posting check-ins, each retrying a failed post with the same id.

    One thread per device token, each posting `per_device` check-ins in turn; bounded by
    `seconds` overall. Keeps every answer that was not a 2xx.
    """

    def __init__(self, ports, tokens, per_device, seconds=60, pause=0.0):
        from tests.builders import new_checkin

        self.ports = ports
        self.bodies = {token: [new_checkin() for _ in range(per_device)] for token in tokens}
        self.deadline = time.monotonic() + seconds
        self.pause = pause
        self.failures, self.successes, self.errors = [], [], []
        self.lock = threading.Lock()
        self.threads = [
            threading.Thread(target=self._post_all, args=(token, n), daemon=True)
            for n, token in enumerate(tokens)
        ]

    def ids(self):
        return {body["id"] for bodies in self.bodies.values() for body in bodies}

    def start(self):
        for thread in self.threads:
            thread.start()
        return self

    def join(self):
        for thread in self.threads:
            thread.join(max(0.1, self.deadline - time.monotonic() + 5))
        assert not any(thread.is_alive() for thread in self.threads), "the load did not finish"
        assert not self.errors, self.errors[:5]

    def done(self):
        with self.lock:
            return len(self.successes)

    def _post_all(self, token, n):
        headers = {"Authorization": f"Bearer {token}"}
        for i, body in enumerate(self.bodies[token]):
            port = self.ports[(n + i) % len(self.ports)]
            while time.monotonic() < self.deadline:
                try:
                    status, answer_headers, answer = call(port, "POST", "/api/v1/me/checkins", body, headers)
                except OSError as exc:
                    with self.lock:
                        self.errors.append(f"{type(exc).__name__}: {exc}")
                    time.sleep(0.2)
                    continue
                with self.lock:
                    if 200 <= status < 300:
                        self.successes.append((time.monotonic(), status, body["id"]))
                    else:
                        self.failures.append((time.monotonic(), status, answer_headers, answer))
                if 200 <= status < 300:
                    break
                time.sleep(0.2)  # a real app waits Retry-After; the test keeps it short
            if self.pause:
                time.sleep(self.pause)
