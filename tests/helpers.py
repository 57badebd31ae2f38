"""Test helpers named for what they make."""
from dataclasses import dataclass, field
from datetime import time
from itertools import count

from server.extensions import db
from server.models import Patient
from server.services import enrollment, staff
from server.services.auth import issue_token

_serial = count(1)
PASSWORD = "correct horse battery"


def make_organization(name=None, timezone="Europe/Berlin"):
    """An organization with a unique name."""
    return staff.organization_named(name or f"Clinic {next(_serial)}", timezone)


def make_staff(organization, role="clinician", email=None):
    """A staff user whose password is PASSWORD."""
    email = email or f"{role}{next(_serial)}@example.test"
    return staff.create_user(organization, email, PASSWORD, role, name=email.split("@")[0])


def make_patient(organization, care_team=(), **fields):
    """An active patient of the organization."""
    serial = next(_serial)
    values = {
        "external_id": f"P-{serial}",
        "display_name": f"Patient {serial}",
        "timezone": organization.timezone,
        "reminder_time": time(9, 0),
        "status": "active",
    }
    values.update(fields)
    patient = Patient(organization=organization, care_team=list(care_team), **values)
    db.session.add(patient)
    db.session.flush()
    return patient


def login_as(app, user):
    """Bearer headers for a staff user, without spending a password check."""
    plaintext, _ = issue_token("staff", app.config["STAFF_TOKEN_ABSOLUTE"], user=user)
    return {"Authorization": f"Bearer {plaintext}"}


def enroll_device(app, patient):
    """Bearer headers for a patient's enrolled device."""
    plaintext, _ = issue_token("device", app.config["DEVICE_TOKEN_LIFETIME"], patient=patient)
    return {"Authorization": f"Bearer {plaintext}"}


def fresh_enrollment_code(app, clinician_id, patient_id):
    """A new enrollment code for the patient, made through the service."""
    from server.models import User
    from server.services.auth import Principal

    with app.app_context():
        user = db.session.get(User, clinician_id)
        patient = db.session.get(Patient, patient_id)
        principal = Principal(role=user.role, organization_id=user.organization_id, user=user)
        code, _ = enrollment.create_code(principal, patient)
    return code


@dataclass
class World:
    """Two organizations and one caller of every kind, as ids and headers."""

    ids: dict = field(default_factory=dict)
    headers: dict = field(default_factory=dict)

    @classmethod
    def build(cls, app, client):
        """Create the callers the access matrix needs."""
        world = cls()
        with app.app_context():
            home, away = make_organization(), make_organization(timezone="America/New_York")
            admin = make_staff(home, "admin")
            on_team = make_staff(home)
            off_team = make_staff(home)
            other_org = make_staff(away)
            patient_a = make_patient(home, care_team=[on_team])
            patient_b = make_patient(home, care_team=[off_team])
            patient_c = make_patient(away, care_team=[other_org])
            db.session.commit()
            world.ids = {
                "home": home.id,
                "away": away.id,
                "admin": admin.id,
                "clinician_on_team": on_team.id,
                "clinician_off_team": off_team.id,
                "clinician_other_org": other_org.id,
                "patient_a": patient_a.id,
                "patient_b": patient_b.id,
                "patient_c": patient_c.id,
            }
            world.headers = {
                "anonymous": {},
                "patient_a": enroll_device(app, patient_a),
                "patient_b": enroll_device(app, patient_b),
                "clinician_other_org": login_as(app, other_org),
                "clinician_off_team": login_as(app, off_team),
                "clinician_on_team": login_as(app, on_team),
                "admin": login_as(app, admin),
            }
            db.session.commit()
        return world
