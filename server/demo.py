"""Demo data: a clinic with staff and patients to explore the API with."""
from datetime import time

from sqlalchemy import select

from server.extensions import db
from server.models import Organization, Patient
from server.services import staff

DEMO_ORGANIZATION = "Backtrack Demo Clinic"
DEMO_TIMEZONE = "Europe/Berlin"
# Published on purpose: the demo refuses to run in production.
DEMO_STAFF = (
    ("admin@demo.backtrack.test", "demo-admin-pass", "admin", "Ada Admin"),
    ("clinician@demo.backtrack.test", "demo-clinician-pass", "clinician", "Chris Clinician"),
)
DEMO_PATIENTS = (
    ("DEMO-001", "Alex Example", 1968, "female", "degenerative_disc_disease", "Europe/Berlin"),
    ("DEMO-002", "Sam Sample", 1975, "male", "herniated_disc", "Europe/Berlin"),
    ("DEMO-003", "Robin Test", 1959, "female", "spinal_stenosis", "America/New_York"),
    ("DEMO-004", "Jo Placeholder", 1982, "male", "muscle_ligament_strain", "Europe/London"),
    ("DEMO-005", "Kim Mock", 1990, "other", "unknown", "Europe/Berlin"),
)


def _credentials():
    return [f"  {role:<9} {email}  password: {password}" for email, password, role, _ in DEMO_STAFF]


def seed_demo():
    """Create the demo clinic once; returns the lines to print."""
    existing = db.session.scalar(
        select(Organization).where(Organization.name == DEMO_ORGANIZATION)
    )
    if existing is not None:
        return ["Demo data already present. Sign in with:", *_credentials()]
    organization = staff.organization_named(DEMO_ORGANIZATION, DEMO_TIMEZONE)
    users = [
        staff.create_user(organization, email, password, role, name)
        for email, password, role, name in DEMO_STAFF
    ]
    clinician = users[1]
    for external_id, name, birth_year, sex, condition, zone in DEMO_PATIENTS:
        db.session.add(
            Patient(
                organization=organization,
                external_id=external_id,
                display_name=name,
                birth_year=birth_year,
                sex=sex,
                condition=condition,
                timezone=zone,
                reminder_time=time(9, 0),
                quiet_start=time(21, 0),
                quiet_end=time(8, 0),
                status="active",
                care_team=[clinician],
            )
        )
    db.session.commit()
    return [
        f"Seeded {DEMO_ORGANIZATION} with {len(DEMO_PATIENTS)} patients. Sign in with:",
        *_credentials(),
    ]
