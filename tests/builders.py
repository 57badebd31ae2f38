"""Test builders, named for what they make."""
import json
import uuid
from dataclasses import dataclass, field
from datetime import time
from itertools import count

from sqlalchemy import func, select, text

from server.clinical.instruments import ODI_SECTIONS
from server.extensions import db
from server.models import CheckIn, Organization, Patient, User
from server.services import checkins, enrollment, staff, treatments
from server.services.auth import Principal, issue_token

# The settings every test app starts from: fast password hashing, in-memory rate limits.
TEST_SETTINGS = {
    "TESTING": True,
    "SECRET_KEY": "test-secret",
    "PASSWORD_HASH_TIME_COST": 1,
    "PASSWORD_HASH_MEMORY_KIB": 1024,
    "RATELIMIT_STORAGE_URI": "memory://",
}

def empty_tables():
    """Delete every row of every table, leaving the migrated schema."""
    tables = [table.name for table in db.metadata.sorted_tables]
    if db.engine.dialect.name == "postgresql":
        db.session.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
    else:
        for name in reversed(tables):
            db.session.execute(text(f"DELETE FROM {name}"))
    db.session.commit()


_serial = count(1)
PASSWORD = "correct horse battery"


# Organizations, staff, patients and their headers.
def make_organization(name=None, timezone="Europe/Berlin"):
    """An organization with a unique name."""
    return staff.organization_named(name or f"Clinic {next(_serial)}", timezone)


def make_staff(organization, role="clinician", email=None):
    """A staff user whose password is PASSWORD."""
    email = email or f"{role}{next(_serial)}@example.test"
    return staff.create_user(organization, email, PASSWORD, role, name=email.split("@")[0])


def staff_of(organization):
    """The organization's first staff member acting, an admin made for it when it has none."""
    user = db.session.scalar(
        select(User).where(User.organization_id == organization.id).order_by(User.id)
    )
    return Principal.of_user(user or make_staff(organization, "admin"))


def make_patient(organization, care_team=(), **fields):
    """An active patient of the organization, stored as a plain row.

    Not through patients.create_patient, which audits the creation: tests of the audit trail
    start from an empty one.
    """
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
    with app.app_context():
        user = db.session.get(User, clinician_id)
        patient = db.session.get(Patient, patient_id)
        code, _ = enrollment.create_code(Principal.of_user(user), patient)
        db.session.commit()
    return code


def email_of(app, user_id):
    """A staff user's email, read from the database."""
    with app.app_context():
        return db.session.get(User, user_id).email


# A world of callers, and a patient added to it.
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


CALLERS = (
    "anonymous",
    "patient_a",
    "patient_b",
    "clinician_other_org",
    "clinician_off_team",
    "clinician_on_team",
    "admin",
)


def add_patient(app, world, timezone="Europe/Berlin"):
    """A patient of the home clinic on the on-team clinician's team: (id, device headers)."""
    with app.app_context():
        organization = db.session.get(Organization, world.ids["home"])
        clinician = db.session.get(User, world.ids["clinician_on_team"])
        patient = make_patient(organization, care_team=[clinician], timezone=timezone)
        headers = enroll_device(app, patient)
        db.session.commit()
        return patient.id, headers


# Routes and the one error shape.
ERROR_KEYS = {"code", "status", "message"}


def api_routes(app):
    """Every "METHOD /rule" the app serves, HEAD and OPTIONS aside, sorted."""
    return sorted(
        f"{method} {rule.rule}"
        for rule in app.url_map.iter_rules()
        for method in rule.methods - {"HEAD", "OPTIONS"}
    )


def fill_path(rule, values):
    """The rule with each <converter:name> placeholder replaced by values[name].

    A name missing from values gets a well-formed stand-in: a nil UUID or 1.
    """
    path = rule
    while "<" in path:
        start, end = path.index("<"), path.index(">")
        converter, _, name = path[start + 1 : end].rpartition(":")
        fallback = "00000000-0000-0000-0000-000000000000" if converter == "uuid" else 1
        path = path[:start] + str(values.get(name, fallback)) + path[end + 1 :]
    return path


def assert_error_shape(response, status):
    """The response has the status and the one error body {code, status, message[, errors]}."""
    assert response.status_code == status, response.get_data(as_text=True)
    body = response.get_json()
    assert ERROR_KEYS <= set(body) <= ERROR_KEYS | {"errors"}, body
    assert body["code"] == status
    assert isinstance(body["status"], str) and body["status"]
    assert isinstance(body["message"], str) and body["message"]
    return body


# Treatments.
def add_treatment(client, world, patient_id, performed_on, kind="prp"):
    """A treatment recorded by the on-team clinician; returns its id."""
    response = client.post(
        f"/api/v1/patients/{patient_id}/treatments",
        json={"kind": kind, "performed_on": performed_on},
        headers=world.headers["clinician_on_team"],
    )
    assert response.status_code == 201, response.json
    return response.json["id"]


def record_treatment(patient_id, performed_on, kind="cell_therapy", **fields):
    """A treatment recorded through the treatments service by the patient's clinic.

    Fields are treatment columns; cell source, levels and notes go in as its details.
    """
    patient = db.session.get(Patient, patient_id)
    details = {key: fields.pop(key) for key in treatments.DETAIL_FIELDS if key in fields}
    data = {"kind": kind, "performed_on": performed_on, "protocol": "spine-standard", **fields}
    actor = staff_of(db.session.get(Organization, patient.organization_id))
    return treatments.create_treatment(actor, patient, {**data, "details": details})


# Check-ins.
CHECKINS = "/api/v1/me/checkins"
SECTIONS = [key for key, _ in ODI_SECTIONS]


def new_checkin(
    instrument="nrs_pain", answers=None, completed_at="2024-05-01T09:30:00+02:00", **fields
):
    """A valid check-in body with a fresh id."""
    return {
        "id": str(uuid.uuid4()),
        "instrument": instrument,
        "answers": {"back": 6, "leg": 4} if answers is None else answers,
        "completed_at": completed_at,
        **fields,
    }


def odi_answers(points, missing=0):
    """The first sections answered with points, the last `missing` sections left out."""
    return dict(zip(SECTIONS[: len(SECTIONS) - missing], points, strict=True))


def post_checkin(client, world, body, caller="patient_a"):
    """The response to posting the check-in body from the caller's device."""
    return client.post(CHECKINS, json=body, headers=world.headers[caller])


def stored_rows(app, checkin_id=None):
    """How many check-in rows are stored (with this id, when given)."""
    query = select(func.count()).select_from(CheckIn)
    if checkin_id is not None:
        query = query.where(CheckIn.id == uuid.UUID(checkin_id))
    with app.app_context():
        return db.session.scalar(query)


def record_checkin(patient, instrument, answers, completed_at):
    """A check-in scored and stored through the check-in service."""
    item = {"id": uuid.uuid4(), "instrument": instrument, "answers": answers}
    (receipt,) = checkins.store(patient, [{**item, "completed_at": completed_at}])
    return receipt.checkin


# One valid, scorable answer set per instrument a protocol asks.
VALID_ANSWERS = {
    "nrs_pain": {"back": 4},
    "odi": {key: 1 for key in SECTIONS},
    "rmdq": {f"item_{n}": n % 3 == 0 for n in range(1, 25)},
    "pgic": {"change": 2},
}


# Jobs and a clinic followed through them.
def run_job_at(app, name, now):
    """Run one job of the jobs table once, as of `now`, as the scheduler would."""
    from jobs import job_named
    from jobs.runner import run_job

    return run_job(app, job_named(name), now)


@dataclass
class FollowUpClinic:
    """A clinician and one patient of theirs, driven through the API at the pinned clock."""

    app: object
    client: object
    clinician_id: int
    patient_id: int

    @classmethod
    def open(cls, app, client, timezone="Europe/Berlin", **patient_fields):
        """A new organization in the zone, with the clinician and the patient."""
        with app.app_context():
            organization = make_organization(timezone=timezone)
            clinician = make_staff(organization)
            patient = make_patient(organization, care_team=[clinician], **patient_fields)
            db.session.commit()
            return cls(app, client, clinician.id, patient.id)

    def staff(self):
        """Staff headers valid at the clock's current time."""
        with self.app.app_context():
            headers = login_as(self.app, db.session.get(User, self.clinician_id))
            db.session.commit()
        return headers

    def device(self):
        """The patient's device headers, valid at the clock's current time."""
        with self.app.app_context():
            headers = enroll_device(self.app, db.session.get(Patient, self.patient_id))
            db.session.commit()
        return headers

    def treat(self, performed_on, protocol="spine-standard"):
        """Record a treatment with a follow-up protocol; returns its id."""
        body = {"kind": "cell_therapy", "performed_on": performed_on.isoformat(), "protocol": protocol}
        response = self.client.post(
            f"/api/v1/patients/{self.patient_id}/treatments", json=body, headers=self.staff()
        )
        assert response.status_code == 201, response.get_json()
        return response.get_json()["id"]

    def check_in(self, instrument, completed_at, answers=None):
        """Submit a check-in from the patient's app; returns its body."""
        body = {
            "id": str(uuid.uuid4()),
            "instrument": instrument,
            "answers": answers or VALID_ANSWERS[instrument],
            "completed_at": completed_at.isoformat(),
        }
        response = self.client.post("/api/v1/me/checkins", json=body, headers=self.device())
        assert response.status_code == 201, response.get_json()
        return response.get_json()

    def get(self, path, **query):
        """A staff GET under the patient; returns the JSON body."""
        response = self.client.get(
            f"/api/v1/patients/{self.patient_id}/{path}", query_string=query, headers=self.staff()
        )
        assert response.status_code == 200, response.get_json()
        return response.get_json()


# Clinics for the tests against real processes.
def make_enrolled_patients(app, count, treated=False, push_token=None):
    """Patients of a new clinic, each with a device token: [(patient id, token)].

    Treated ones have a cell therapy a week ago under the pain diary, so follow-ups, reminders
    and trends have work.
    """
    from datetime import timedelta

    from server.clock import utcnow

    organization = make_organization(timezone="UTC")
    clinician = make_staff(organization)
    made = []
    for _ in range(count):
        patient = make_patient(organization, care_team=[clinician], timezone="UTC", push_token=push_token)
        if treated:
            record_treatment(patient.id, (utcnow() - timedelta(days=7)).date(), protocol="pain-diary")
        plaintext, _ = issue_token("device", app.config["DEVICE_TOKEN_LIFETIME"], patient=patient)
        made.append((patient.id, plaintext))
    db.session.commit()
    return made


def make_reminders_due(now):
    """Make the next reminder of every open time point due now, as if its reminder time had come."""
    from server.models import FollowUp

    db.session.execute(
        FollowUp.__table__.update()
        .where(
            FollowUp.status == "active",
            FollowUp.next_reminder_at.is_not(None),
            FollowUp.opens_at <= now,
            FollowUp.closes_at > now,
        )
        .values(next_reminder_at=now)
    )
    db.session.commit()


# FHIR resources, validated by the fhir.resources package's R4B models.
def validate_fhir(resource):
    """The resource parsed by the R4B model of its type; raises when it does not validate."""
    from fhir.resources.R4B import get_fhir_model_class

    return get_fhir_model_class(resource["resourceType"]).model_validate(resource)


def references_in(value):
    """Every Reference.reference string anywhere inside a resource."""
    if isinstance(value, dict):
        found = [value["reference"]] if isinstance(value.get("reference"), str) else []
        return found + [ref for item in value.values() for ref in references_in(item)]
    if isinstance(value, list):
        return [ref for item in value for ref in references_in(item)]
    return []


def bundle_of(client, patient_id, headers):
    """A patient's FHIR Bundle as the caller gets it, parsed."""
    response = client.get(f"/api/v1/patients/{patient_id}/fhir", headers=headers)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.mimetype == "application/fhir+json"
    return json.loads(response.get_data())


def bulk_export(client, headers, query=""):
    """The bulk FHIR export as the caller streams it: its resources, in order."""
    response = client.get(f"/api/v1/exports/fhir{query}", headers=headers)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.is_streamed and response.mimetype == "application/fhir+ndjson"
    text = response.get_data(as_text=True)
    assert text.endswith("\n")
    return [json.loads(line) for line in text.splitlines()]


def by_type(resources, resource_type):
    """The resources of one type."""
    return [r for r in resources if r["resourceType"] == resource_type]


def assert_references_resolve(resources):
    """Every reference inside the resources names one of them."""
    present = {f"{r['resourceType']}/{r['id']}" for r in resources}
    dangling = {ref for r in resources for ref in references_in(r)} - present
    assert dangling == set()
