"""Shared pieces of the benchmark scripts: databases, servers and wrk."""
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from contextlib import contextmanager

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
VENV_BIN = os.path.join(ROOT, ".venv", "bin")
DEFAULT_PG = "postgresql+psycopg://postgres@127.0.0.1:5432/"


def postgres_url(name):
    """A fresh, empty PostgreSQL database of this name (dropped and recreated)."""
    base = os.environ.get("BENCH_POSTGRES_URL", DEFAULT_PG + "postgres")
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return make_url(base).set(database=name).render_as_string(hide_password=False)


def sqlite_url(name):
    """A fresh SQLite file in a temporary folder."""
    folder = tempfile.mkdtemp(prefix="backtrack-bench-")
    return f"sqlite:///{folder}/{name}.sqlite3"


def migrate(url):
    """Bring a database to the newest schema with the project's migrations."""
    subprocess.run(
        [os.path.join(VENV_BIN, "flask"), "--app", "wsgi", "db", "upgrade"],
        cwd=ROOT,
        env={**os.environ, "DATABASE_URL": url},
        check=True,
        capture_output=True,
    )


def free_port():
    """A TCP port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def gunicorn(app_path, url, workers=2, threads=1, env=None, root=ROOT):
    """Serve app_path from the checkout root under gunicorn on a free local port, with extra
    environment variables if given; yields the base URL."""
    port = free_port()
    command = [
        os.path.join(VENV_BIN, "gunicorn"),
        "--bind", f"127.0.0.1:{port}",
        "--workers", str(workers),
        "--threads", str(threads),
        "--log-level", "warning",
        app_path,
    ]
    env = {**os.environ, **(env or {}), "DATABASE_URL": url, "PYTHONPATH": root}
    process = subprocess.Popen(command, cwd=root, env=env, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_until_up(base, process)
        yield base
    finally:
        if process.poll() is None:  # not when it died on start-up: that error is the one to see
            os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)


def _wait_until_up(base, process):
    for _ in range(200):
        if process.poll() is not None:
            sys.exit(f"gunicorn exited with {process.returncode}")
        try:
            urllib.request.urlopen(base + "/healthz", timeout=1)
            return
        except OSError as exc:
            if getattr(exc, "code", None):  # an HTTP answer: it is up
                return
            time.sleep(0.1)
    sys.exit("gunicorn did not come up")


def wrk(base, script, seconds, connections, threads=2):
    """Run wrk with a Lua script; returns requests/s, p50 and p99 in ms, and non-2xx count."""
    if shutil.which("wrk") is None:
        sys.exit("wrk is needed: apt-get install wrk")
    result = subprocess.run(
        ["wrk", "-t", str(threads), "-c", str(connections), "-d", f"{seconds}s",
         "--latency", "-s", script, base],
        capture_output=True, text=True, check=True,
    )
    out = result.stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    non_2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    return {
        "rps": rps,
        "p50": _latency_ms(out, "50%"),
        "p99": _latency_ms(out, "99%"),
        "errors": int(non_2xx.group(1)) if non_2xx else 0,
    }


def _latency_ms(out, percentile):
    value, unit = re.search(rf"^\s+{percentile}\s+([\d.]+)(us|ms|s)\s*$", out, re.M).groups()
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def median(values):
    """The median of a list of numbers."""
    return statistics.median(values)
