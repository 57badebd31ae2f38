"""Who is calling: the bearer token of the request, and the decorators that require one."""
import hashlib
from functools import wraps

from flask import current_app, g, request

from server.api.contract import answers, roles
from server.errors import Forbidden, Unauthorized
from server.extensions import client_ip, limiter
from server.models.accounts import STAFF_ROLES
from server.services import auth
from server.services.enrollment import normalize_code


ROLES = ("patient", *STAFF_ROLES)


def _token_from_header():
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        return None
    return value.strip()


def current_principal():
    """The principal behind the request's bearer token (None if none is live), once per request."""
    if "principal" not in g:
        plaintext = _token_from_header()
        g.principal = auth.authenticate(plaintext, client_ip()) if plaintext else None
    return g.principal


def _require(*role_names):
    def decorator(view):
        @wraps(view)
        def wrapper(*args, **kwargs):
            principal = current_principal()
            if principal is None:
                raise Unauthorized("Sign in first: a valid bearer token is required.")
            if principal.role not in role_names:
                raise Forbidden("Your role cannot use this endpoint.")
            return view(*args, **kwargs)

        refused = (401,) if set(role_names) == set(ROLES) else (401, 403)
        return answers(*refused)(roles(*role_names)(wrapper))

    return decorator


def _sign_in_failed(response):
    return response.status_code == 401


def _body_field(name):
    body = request.get_json(silent=True) if request.is_json else request.form
    return body.get(name) if hasattr(body, "get") else None


def _sign_in_email():
    return f"login-email:{str(_body_field('email')).strip().lower()}"


def _failure_limit(setting, scope, key_scope, key_func, failed):
    """A decorator counting failures against `setting`, per client address and per key_func."""

    def limit():
        return current_app.config[setting]

    per_key = limiter.shared_limit(limit, scope=key_scope, key_func=key_func, deduct_when=failed)
    per_address = limiter.shared_limit(limit, scope=scope, deduct_when=failed)
    return lambda view: answers(429)(per_address(per_key(view)))


# LOGIN_FAILURE_LIMIT per client address and per email, shared by the API and the pages.
limit_failed_sign_ins = _failure_limit(
    "LOGIN_FAILURE_LIMIT", "sign-in", "sign-in-email", _sign_in_email, _sign_in_failed
)


def _enrollment_failed(response):
    """A refused code: used or expired (410), or unknown or malformed (422 naming `code`)."""
    if response.status_code == 410:
        return True
    errors = (response.get_json(silent=True) or {}).get("errors") or {}
    return response.status_code == 422 and "code" in (errors.get("json") or {})


def _digest(text):
    """A short stable key for a secret the limiter counts by, never the secret itself."""
    return hashlib.sha256(text.encode("utf-8", "replace")).hexdigest()[:32]


def _enrollment_code():
    code = _body_field("code")
    return f"enroll-code:{_digest(normalize_code(code)) if isinstance(code, str) else ''}"


# ENROLL_FAILURE_LIMIT per client address and per code tried (kept as its hash).
limit_failed_enrollments = _failure_limit(
    "ENROLL_FAILURE_LIMIT", "enroll", "enroll-code", _enrollment_code, _enrollment_failed
)


def _device_token():
    plaintext = _token_from_header()
    return f"device:{_digest(plaintext) if plaintext else client_ip()}"


def limit_checkins(view):
    """CHECKIN_RATE_LIMIT posts per device token, shared by single and batch posts."""
    limited = limiter.shared_limit(
        lambda: current_app.config["CHECKIN_RATE_LIMIT"], scope="checkins", key_func=_device_token
    )(view)
    return answers(429)(limited)


# PUBLIC_RATE_LIMIT per client address, shared by the operations anyone may call without input.
limit_public_calls = limiter.shared_limit(
    lambda: current_app.config["PUBLIC_RATE_LIMIT"], scope="public"
)


def limit_public(view):
    """Count the view against PUBLIC_RATE_LIMIT, and document its 429."""
    return answers(429)(limit_public_calls(view))


signed_in = _require(*ROLES)
staff_only = _require(*STAFF_ROLES)
admin_only = _require("admin")
patient_only = _require("patient")
