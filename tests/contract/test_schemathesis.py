"""Schemathesis against the WSGI app, with every check it has, each case sent as a patient, a
clinician and an admin: bounded (a few examples per operation, no shrinking) and repeatable (a
fixed seed, derandomized, no example database)."""
import pytest
from hypothesis import HealthCheck, settings
import schemathesis
from schemathesis.checks import CHECKS, load_all_checks
from schemathesis.config import SchemathesisConfig

from server.extensions import db
from server.models import Patient, User
from server import create_app
from tests.builders import TEST_SETTINGS, enroll_device, login_as

load_all_checks()
CHECK_NAMES = CHECKS.get_all_names()
# Rules a schema cannot hold, each stated in its operation's description: valid-looking data
# may still answer 422 naming the field, here and nowhere else.
#   reportAdverseEvent: treatment_id must be one of the patient's treatments (stored data);
#   createPatient, updatePatient: care_team must list the organization's clinicians (stored data);
#   submitCheckIn, submitCheckInBatch: completed_at at most 5 minutes ahead (the clock);
#   createTreatment, updateTreatment: details.cell_source only for kind cell_therapy (two fields);
#   getCohortOutcomes: score_name must be a score of instrument (two parameters).
BEYOND_THE_SCHEMA = [
    "reportAdverseEvent",
    "createPatient",
    "updatePatient",
    "submitCheckIn",
    "submitCheckInBatch",
    "createTreatment",
    "updateTreatment",
    "getCohortOutcomes",
]
ACCEPTED = ["2xx", "3xx", "401", "403", "404", "409", "429", "5xx"]
CONFIG = SchemathesisConfig.from_dict(
    {
        "seed": 20261202,
        "generation": {
            "mode": "all",
            "max-examples": 4,
            "no-shrink": True,
            "deterministic": True,
            "database": "none",
        },
        "checks": {"enabled": True, **{name: {"enabled": True} for name in CHECK_NAMES}},
        "operations": [
            {
                "include-operation-id": BEYOND_THE_SCHEMA,
                "checks": {"positive_data_acceptance": {"expected-statuses": [*ACCEPTED, "422"]}},
            }
        ],
    }
)
# Who calls: the world's patient, a clinician on their care team, the clinic's admin.
CALLERS = {"patient": "patient_a", "clinician": "clinician_on_team", "admin": "admin"}


class CurrentApp:
    """A WSGI app passing each request to the app of the test running now (one per backend)."""

    def __init__(self):
        self.app = create_app({**TEST_SETTINGS, "SQLALCHEMY_DATABASE_URI": "sqlite://"})

    def __call__(self, environ, start_response):
        return self.app(environ, start_response)


CURRENT = CurrentApp()
# Loaded once, as served; its cases (and the checks' own requests) go to CURRENT.
schema = schemathesis.openapi.from_wsgi("/api/openapi.json", CURRENT, config=CONFIG)


@pytest.fixture
def current_app(app):
    """CURRENT pointed at the backend's app for the test."""
    CURRENT.app = app
    return app


def fresh_headers(app, world, role):
    """A new token for the caller: a case that signs out or revokes devices spoils no other."""
    caller = world.ids[CALLERS[role]]
    with app.app_context():
        if role == "patient":
            headers = enroll_device(app, db.session.get(Patient, caller))
        else:
            headers = login_as(app, db.session.get(User, caller))
        db.session.commit()
    return headers


@schema.parametrize()
# One world per operation, shared by its examples on purpose: each call gets a fresh token.
@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_every_operation_passes_every_check(case, current_app, world):
    for role in CALLERS:
        try:
            case.call_and_validate(headers=fresh_headers(current_app, world, role))
        except BaseException as exc:
            exc.add_note(f"Sent as the {role}.")
            raise


def test_every_check_schemathesis_has_is_enabled():
    enabled = {name for name in CHECK_NAMES if CONFIG.projects.default.checks.get_by_name(name=name).enabled}
    assert enabled == set(CHECK_NAMES) and len(CHECK_NAMES) >= 14
