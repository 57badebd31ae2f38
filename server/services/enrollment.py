"""One-time enrollment codes and the device tokens they are exchanged for."""
import secrets

from sqlalchemy import select, update

from server.clock import utcnow
from server.config import setting
from server.errors import Gone, Invalid
from server.extensions import db
from server.models import AccessToken, EnrollmentCode, Patient
from server.services import audit
from server.services.auth import Principal, hash_secret, issue_token

# No 0/O, 1/I/L, 2/Z, 5/S or 8/B: easy to read aloud and to type on a phone.
CODE_ALPHABET = "ACDEFGHJKMNPQRTUVWXY34679"
CODE_LENGTH = 8


def normalize_code(code):
    """Upper-case the code and drop the spaces and dashes a patient may type."""
    return "".join(ch for ch in code.upper() if ch not in " -")


def create_code(principal, patient):
    """A fresh code for the patient; earlier unused codes stop working (audited by the access check)."""
    now = utcnow()
    db.session.execute(
        update(EnrollmentCode)
        .where(EnrollmentCode.patient_id == patient.id, EnrollmentCode.used_at.is_(None))
        .values(expires_at=now)
    )
    raw = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
    code = EnrollmentCode(
        code_hash=hash_secret(raw),
        patient_id=patient.id,
        created_by_id=principal.user.id,
        created_at=now,
        expires_at=now + setting("ENROLLMENT_CODE_LIFETIME"),
    )
    db.session.add(code)
    return f"{raw[:4]}-{raw[4:]}", code.expires_at


def exchange_code(code, device_label, ip):
    """Trade a valid code for a device token; a code works once, even under races.

    A refused code raises with its audit event, kept however the request ends.
    """
    now = utcnow()
    row = db.session.scalar(
        select(EnrollmentCode).where(EnrollmentCode.code_hash == hash_secret(normalize_code(code)))
    )
    if row is None:
        raise Invalid(
            "This enrollment code is not valid. Check it and try again.",
            errors={"json": {"code": ["Not a valid enrollment code."]}},
            audit=[audit.event(Principal.anonymous(ip), "enrollment.exchange", outcome="failure")],
        )
    patient = db.session.get(Patient, row.patient_id)
    claimed = db.session.execute(
        update(EnrollmentCode)
        .where(
            EnrollmentCode.id == row.id,
            EnrollmentCode.used_at.is_(None),
            EnrollmentCode.expires_at > now,
        )
        .values(used_at=now)
    ).rowcount
    actor = Principal.of_patient(patient, ip)
    if not claimed or patient.status != "active":
        raise Gone(
            "This enrollment code was already used or has expired. Ask your clinic for a new one.",
            audit=[audit.event(actor, "enrollment.exchange", patient.id, outcome="failure")],
        )
    plaintext, token = issue_token(
        "device", setting("DEVICE_TOKEN_LIFETIME"), patient=patient, device_label=device_label
    )
    audit.record(actor, "enrollment.exchange", patient.id)
    return plaintext, token, patient


def revoke_devices(patient):
    """Revoke every device token of the patient (audited by the caller); returns how many were live."""
    revoked = db.session.execute(
        update(AccessToken)
        .where(
            AccessToken.patient_id == patient.id,
            AccessToken.kind == "device",
            AccessToken.revoked_at.is_(None),
        )
        .values(revoked_at=utcnow())
    ).rowcount
    return revoked


def on_patient_changed(patient, changed, principal=None):
    """Withdrawing a patient revokes their devices, audited as the staff member's revocation."""
    if "status" in changed and patient.status != "active":
        revoke_devices(patient)
        if principal is not None:
            audit.record(principal, "devices.revoke", patient.id)
