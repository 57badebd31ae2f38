"""Email and push deliveries against real local servers: aiosmtpd and a local HTTP gateway."""
import hashlib
import hmac
import json
import shutil
import socket
import ssl
import subprocess
import threading
import time as wall_clock
from email import message_from_bytes, policy
from datetime import date, datetime, time, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult

from tests.builders import FollowUpClinic, run_job_at

UTC = timezone.utc
DUE = datetime(2026, 6, 10, 7, tzinfo=UTC)  # 09:00 in Berlin, when the first w1 reminder is due
SMTP_LOGIN = (b"reminders", b"app password")
CLINICAL_WORDS = ("pain", "score", "odi", "nrs", "w1", "disab")


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Inbox:
    """An aiosmtpd handler keeping every message it accepts."""

    def __init__(self):
        self.envelopes = []

    async def handle_DATA(self, server, session, envelope):
        self.envelopes.append(envelope)
        return "250 Message accepted"


def check_login(server, session, envelope, mechanism, auth_data):
    return AuthResult(success=(auth_data.login, auth_data.password) == SMTP_LOGIN, handled=False)


@pytest.fixture
def certificate(tmp_path):
    """A self-signed certificate for 127.0.0.1: (cert file, key file)."""
    if shutil.which("openssl") is None:
        pytest.skip("openssl is needed to make the test server's certificate")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
         "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
         "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True,
    )
    return cert, key


def smtp_server(inbox, **options):
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port(), **options)
    controller.start()
    return controller


def emailed_patient(app, client, clock, **config):
    """A patient with only an email address, whose first reminder is due at DUE."""
    app.config.update(config)
    clock.set_now(DUE - timedelta(days=10))
    clinic = FollowUpClinic.open(
        app, client, reminder_time=time(9, 0), contact_email="patient@example.test"
    )
    clinic.treat(date(2026, 6, 6), protocol="pain-diary")
    clock.set_now(DUE)
    run_job_at(app, "plan-reminders", DUE)
    return clinic


def test_email_reminder_reaches_a_real_smtp_server(app, client, clock):
    inbox = Inbox()
    server = smtp_server(inbox)
    try:
        clinic = emailed_patient(
            app, client, clock, SMTP_HOST="127.0.0.1", SMTP_PORT=server.port, SMTP_FROM="clinic@example.test"
        )
        assert run_job_at(app, "deliver-notifications", DUE)["sent"] == 1
    finally:
        server.stop()
    (envelope,) = inbox.envelopes
    assert envelope.rcpt_tos == ["patient@example.test"]
    assert envelope.mail_from == "clinic@example.test"
    email = message_from_bytes(envelope.content, policy=policy.default)
    assert email["Subject"] == "Backtrack: a check-in is due"
    assert email["X-Backtrack-Reminder"] == f"backtrack-reminder-{clinic.get('notifications')[0]['id']}"
    body = email.get_content()
    assert "backtrack://app/checkins" in body
    assert not any(word in body.lower() for word in CLINICAL_WORDS)
    (reminder,) = clinic.get("notifications")
    assert (reminder["channel"], reminder["state"], reminder["attempts"]) == ("smtp", "sent", 1)


def test_email_with_starttls_and_login(app, client, clock, certificate):
    cert, key = certificate
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    inbox = Inbox()
    server = smtp_server(
        inbox, tls_context=context, require_starttls=True, authenticator=check_login, auth_require_tls=True
    )
    try:
        clinic = emailed_patient(
            app, client, clock,
            SMTP_HOST="127.0.0.1", SMTP_PORT=server.port, SMTP_STARTTLS=True, SMTP_CA_FILE=str(cert),
            SMTP_USERNAME="reminders", SMTP_PASSWORD="wrong password",
        )
        assert run_job_at(app, "deliver-notifications", DUE)["failed"] == 1
        app.config["SMTP_PASSWORD"] = "app password"
        retry = DUE + timedelta(seconds=app.config["DELIVERY_BACKOFF_SECONDS"] + 1)
        assert run_job_at(app, "deliver-notifications", retry)["sent"] == 1
    finally:
        server.stop()
    assert len(inbox.envelopes) == 1
    (reminder,) = clinic.get("notifications")
    assert [h["state"] for h in reminder["history"]] == [
        "pending", "sending", "failed", "sending", "sent"
    ]


class Gateway(BaseHTTPRequestHandler):
    """A push gateway answering 500, then hanging, then 200; it records every request."""

    behaviours = []
    requests = []
    hang_seconds = 0

    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.requests.append((dict(self.headers), body))
        behaviour = self.behaviours.pop(0)
        if behaviour == "hang":
            wall_clock.sleep(self.hang_seconds)
        status = 500 if behaviour == "error" else 200
        try:
            self.send_response(status)
            self.end_headers()
            self.wfile.write(b"{}")
        except OSError:
            pass  # the sender gave up waiting

    def log_message(self, *args):
        pass


@pytest.fixture
def gateway():
    Gateway.behaviours = ["error", "hang", "ok"]
    Gateway.requests = []
    Gateway.hang_seconds = 1.5
    server = ThreadingHTTPServer(("127.0.0.1", 0), Gateway)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/push"
    server.shutdown()
    server.server_close()


def test_webhook_retries_after_an_error_and_a_timeout_then_succeeds(app, client, clock, gateway):
    app.config.update(
        PUSH_GATEWAY_URL=gateway, PUSH_GATEWAY_SECRET="gateway secret", WEBHOOK_TIMEOUT_SECONDS=0.5
    )
    clock.set_now(DUE - timedelta(days=10))
    clinic = FollowUpClinic.open(app, client, reminder_time=time(9, 0), push_token="push-token-1")
    clinic.treat(date(2026, 6, 6), protocol="pain-diary")
    run_job_at(app, "plan-reminders", DUE)
    # Backoff of 60 s, then 120 s; a second more for the time each run takes.
    first, second = DUE + timedelta(seconds=61), DUE + timedelta(seconds=61 + 121)
    started = wall_clock.monotonic()
    assert run_job_at(app, "deliver-notifications", DUE)["failed"] == 1
    assert run_job_at(app, "deliver-notifications", first)["failed"] == 1
    assert wall_clock.monotonic() - started < Gateway.hang_seconds  # gave up at the timeout
    assert run_job_at(app, "deliver-notifications", second)["sent"] == 1
    clock.set_now(second)
    (reminder,) = clinic.get("notifications")
    assert (reminder["channel"], reminder["state"], reminder["attempts"]) == ("webhook", "sent", 3)
    assert [h["state"] for h in reminder["history"]] == [
        "pending", "sending", "failed", "sending", "failed", "sending", "sent"
    ]
    keys = {headers["Idempotency-Key"] for headers, _ in Gateway.requests}
    assert keys == {f"backtrack-reminder-{reminder['id']}"}
    for headers, body in Gateway.requests:
        expected = hmac.new(b"gateway secret", body, hashlib.sha256).hexdigest()
        assert headers["X-Backtrack-Signature"] == f"sha256={expected}"
        assert headers["Content-Type"] == "application/json"
        payload = json.loads(body)
        assert payload["push_token"] == "push-token-1"
        assert payload["link"] == "backtrack://app/checkins"
        assert not any(word in json.dumps(payload).lower() for word in CLINICAL_WORDS)
    assert len(Gateway.requests) == 3


def test_webhook_failure_is_recorded_with_the_gateway_status(app, client, clock, gateway):
    Gateway.behaviours = ["error"]
    app.config.update(PUSH_GATEWAY_URL=gateway, PUSH_GATEWAY_SECRET="s")
    clock.set_now(DUE - timedelta(days=10))
    clinic = FollowUpClinic.open(app, client, reminder_time=time(9, 0), push_token="t")
    clinic.treat(date(2026, 6, 6), protocol="pain-diary")
    run_job_at(app, "plan-reminders", DUE)
    run_job_at(app, "deliver-notifications", DUE)
    clock.set_now(DUE)
    (reminder,) = clinic.get("notifications")
    assert reminder["last_error"] == "webhook: the gateway answered 500"
