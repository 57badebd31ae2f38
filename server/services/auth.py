"""Bearer tokens, sign-in, sign-out and the signed-in principal."""
import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta
from functools import wraps

from flask import current_app, g, request
from sqlalchemy import bindparam, select
from sqlalchemy.orm import joinedload

from server.clock import utcnow
from server.errors import Forbidden, Unauthorized
from server.extensions import db
from server.models import AccessToken, Patient, User
from server.services import audit
from server.services.passwords import verify_password

# Writing last_used_at on every request would turn each read into a write.
LAST_USED_RESOLUTION = timedelta(seconds=60)
# Built once: every request runs it, and building a statement costs as much as running it.
# A device's patient comes with their treatments: check-ins are placed against them.
TOKEN_BY_HASH = (
    select(AccessToken)
    .options(
        joinedload(AccessToken.user),
        joinedload(AccessToken.patient).joinedload(Patient.treatments),
    )
    .where(AccessToken.token_hash == bindparam("token_hash"))
)


@dataclass(frozen=True)
class Principal:
    """Who is calling: a staff user or a patient's device."""

    role: str
    organization_id: int
    user: User | None = None
    patient: Patient | None = None
    token: AccessToken | None = None

    @property
    def actor_id(self):
        """The user's id for staff, the patient's id for a device."""
        return self.user.id if self.user else self.patient.id

    @property
    def is_staff(self):
        """True for admins and clinicians."""
        return self.user is not None


def hash_secret(secret):
    """The stored form of a token or code: SHA-256, hex."""
    return hashlib.sha256(secret.encode()).hexdigest()


def issue_token(kind, lifetime, user=None, patient=None, device_label=None):
    """Create a token row and return (plaintext token, row)."""
    plaintext = secrets.token_urlsafe(32)
    now = utcnow()
    token = AccessToken(
        token_hash=hash_secret(plaintext),
        kind=kind,
        user=user,
        patient=patient,
        device_label=device_label,
        created_at=now,
        last_used_at=now,
        expires_at=now + lifetime,
    )
    db.session.add(token)
    return plaintext, token


def login(email, password):
    """Check staff credentials, audit the attempt and return (token, row)."""
    user = db.session.scalar(select(User).where(User.email == email.strip().lower()))
    if not verify_password(user.password_hash if user else None, password):
        audit.record(
            _principal_for_user(user) if user else None,
            "auth.login",
            outcome="failure",
        )
        db.session.commit()
        raise Unauthorized("Unknown email or wrong password.")
    plaintext, token = issue_token(
        "staff", current_app.config["STAFF_TOKEN_ABSOLUTE"], user=user
    )
    audit.record(_principal_for_user(user), "auth.login")
    db.session.commit()
    return plaintext, token


def logout(principal):
    """Revoke the token the caller presented."""
    principal.token.revoked_at = utcnow()
    audit.record(principal, "auth.logout", patient_id=_patient_id(principal))
    db.session.commit()


def _patient_id(principal):
    return principal.patient.id if principal.patient else None


def _principal_for_user(user):
    return Principal(role=user.role, organization_id=user.organization_id, user=user)


def _principal_for_token(token):
    if token.kind == "staff":
        return Principal(
            role=token.user.role,
            organization_id=token.user.organization_id,
            user=token.user,
            token=token,
        )
    return Principal(
        role="patient",
        organization_id=token.patient.organization_id,
        patient=token.patient,
        token=token,
    )


def _token_from_header():
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        return None
    return value.strip()


def _is_live(token, now):
    if token.revoked_at is not None or token.expires_at <= now:
        return False
    if token.kind == "staff":
        return token.last_used_at + current_app.config["STAFF_TOKEN_IDLE"] > now
    return True


def current_principal():
    """The principal behind the request's bearer token, or None."""
    if "principal" in g:
        return g.principal
    g.principal = None
    plaintext = _token_from_header()
    if plaintext:
        token = (
            db.session.scalars(TOKEN_BY_HASH, {"token_hash": hash_secret(plaintext)})
            .unique()
            .one_or_none()
        )
        now = utcnow()
        if token is not None and _is_live(token, now):
            if now - token.last_used_at >= LAST_USED_RESOLUTION:
                token.last_used_at = now
                db.session.commit()
            g.principal = _principal_for_token(token)
    return g.principal


def _require(check):
    def decorator(view):
        @wraps(view)
        def wrapper(*args, **kwargs):
            principal = current_principal()
            if principal is None:
                raise Unauthorized("Sign in first: a valid bearer token is required.")
            if not check(principal):
                raise Forbidden("Your role cannot use this endpoint.")
            return view(*args, **kwargs)

        return wrapper

    return decorator


signed_in = _require(lambda principal: True)
staff_only = _require(lambda principal: principal.is_staff)
admin_only = _require(lambda principal: principal.role == "admin")
patient_only = _require(lambda principal: principal.role == "patient")
