"""Bearer tokens and sign-in: who is acting, and from where."""
import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import bindparam, select
from sqlalchemy.orm import joinedload

from server.clock import utcnow
from server.config import setting
from server.errors import Unauthorized
from server.extensions import db
from server.models import AccessToken, Patient, User
from server.services import audit
from server.services.passwords import hash_password, needs_rehash, verify_password

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
    """Who is acting: a staff user, a patient's device or nobody yet, and from which address."""

    role: str
    organization_id: int | None = None
    user: User | None = None
    patient: Patient | None = None
    token: AccessToken | None = None
    ip: str | None = None

    @classmethod
    def of_user(cls, user, ip=None, token=None):
        """A staff user acting."""
        return cls(user.role, user.organization_id, user=user, token=token, ip=ip)

    @classmethod
    def of_patient(cls, patient, ip=None, token=None):
        """A patient acting through their device."""
        return cls("patient", patient.organization_id, patient=patient, token=token, ip=ip)

    @classmethod
    def anonymous(cls, ip=None):
        """Someone not signed in, such as a failed sign-in."""
        return cls("anonymous", ip=ip)

    @property
    def actor_id(self):
        """The user's id for staff, the patient's id for a device, None when anonymous."""
        if self.user:
            return self.user.id
        return self.patient.id if self.patient else None

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


def login(email, password, ip):
    """Check staff credentials, audit the attempt and return (token, row).

    A failed attempt raises Unauthorized carrying its audit event, kept however the request ends.
    """
    user = db.session.scalar(select(User).where(User.email == email.strip().lower()))
    if not verify_password(user.password_hash if user else None, password):
        actor = Principal.of_user(user, ip) if user else Principal.anonymous(ip)
        raise Unauthorized(
            "Unknown email or wrong password.",
            audit=[audit.event(actor, "auth.login", outcome="failure")],
        )
    if needs_rehash(user.password_hash):
        # The Argon2 cost changed since this password was hashed: the plaintext is at hand now.
        user.password_hash = hash_password(password)
    plaintext, token = issue_token("staff", setting("STAFF_TOKEN_ABSOLUTE"), user=user)
    audit.record(Principal.of_user(user, ip), "auth.login")
    return plaintext, token


def logout(principal):
    """Revoke the token the caller presented."""
    principal.token.revoked_at = utcnow()
    patient_id = principal.patient.id if principal.patient else None
    audit.record(principal, "auth.logout", patient_id=patient_id)


def _is_live(token, now):
    if token.revoked_at is not None or token.expires_at <= now:
        return False
    if token.kind == "staff":
        return token.last_used_at + setting("STAFF_TOKEN_IDLE") > now
    # A withdrawn patient's device stops at once, even if a token escaped revocation.
    return token.patient.status == "active"


def authenticate(plaintext, ip):
    """The principal behind a live bearer token, or None; marks the token used."""
    token = (
        db.session.scalars(TOKEN_BY_HASH, {"token_hash": hash_secret(plaintext)})
        .unique()
        .one_or_none()
    )
    now = utcnow()
    if token is None or not _is_live(token, now):
        return None
    if now - token.last_used_at >= LAST_USED_RESOLUTION:
        token.last_used_at = now
    if token.kind == "staff":
        return Principal.of_user(token.user, ip, token)
    return Principal.of_patient(token.patient, ip, token)
