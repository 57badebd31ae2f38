"""The FHIR export of the demo clinic: every bundle and the bulk export parse and validate
with the R4B models, and every reference resolves. The demo is seeded once; tests only read."""
import json
from collections import Counter, defaultdict
from types import SimpleNamespace

import pytest
from sqlalchemy import func, select

from server.demo import DEMO_STAFF
from server.extensions import db
from server.models import AdverseEvent, CheckIn, Patient, Treatment, User
from tests.builders import (
    assert_references_resolve,
    bulk_export,
    bundle_of,
    by_type,
    login_as,
    references_in,
    validate_fhir,
)


@pytest.fixture(scope="module")
def demo(demo_app):
    """The seeded app, its admin's headers, its patients' ids and its bulk export, read once."""
    app, _ = demo_app
    admin_email = next(email for email, _, role, _ in DEMO_STAFF if role == "admin")
    with app.app_context():
        headers = login_as(app, db.session.scalar(select(User).where(User.email == admin_email)))
        patient_ids = db.session.scalars(select(Patient.id).order_by(Patient.id)).all()
        db.session.commit()
    client = app.test_client()
    return SimpleNamespace(
        app=app,
        client=client,
        headers=headers,
        patient_ids=patient_ids,
        exported=bulk_export(client, headers),
    )


def _patient_of(resource):
    """The id of the patient a resource is of."""
    if resource["resourceType"] == "Patient":
        return int(resource["id"])
    return int(resource["subject"]["reference"].removeprefix("Patient/"))


def expected_counts(app):
    """How many resources of each type the demo's rows make."""
    with app.app_context():
        checkins = db.session.execute(select(CheckIn.score, CheckIn.subscores)).all()

        def count(model):
            return db.session.scalar(select(func.count()).select_from(model))

        return {
            "Patient": count(Patient),
            "Procedure": count(Treatment),
            "QuestionnaireResponse": len(checkins),
            "Observation": sum((score is not None) + len(subs) for score, subs in checkins),
            "AdverseEvent": count(AdverseEvent),
        }


def test_every_demo_bundle_holds_its_patients_exported_resources_and_they_resolve(demo):
    """The bulk export's resources all validate (below): each bundle holds the same ones."""
    exported = defaultdict(list)
    for resource in demo.exported:
        exported[_patient_of(resource)].append(resource)
    for n, patient_id in enumerate(demo.patient_ids):
        bundle = bundle_of(demo.client, patient_id, demo.headers)
        if n % 10 == 0:
            validate_fhir(bundle)  # the entries too, each by the model of its resourceType
        assert bundle["type"] == "collection"
        resources = [entry["resource"] for entry in bundle["entry"]]
        for entry, resource in zip(bundle["entry"], resources, strict=True):
            assert entry["fullUrl"].endswith(f"/{resource['resourceType']}/{resource['id']}")
        assert sorted(resources, key=json.dumps) == sorted(exported[patient_id], key=json.dumps)
        assert_references_resolve(resources)
        (patient,) = by_type(resources, "Patient")
        assert patient["id"] == str(patient_id) and "name" not in patient
        assert patient["identifier"][0]["value"]
    assert {r["resourceType"] for r in demo.exported} == {
        "Patient",
        "Procedure",
        "QuestionnaireResponse",
        "Observation",
        "AdverseEvent",
    }


def test_bulk_export_of_the_demo_is_ndjson_of_valid_resources_each_after_its_references(demo):
    written = set()
    for resource in demo.exported:
        validate_fhir(resource)
        assert set(references_in(resource)) <= written, resource["id"]
        written.add(f"{resource['resourceType']}/{resource['id']}")
    assert Counter(r["resourceType"] for r in demo.exported) == expected_counts(demo.app)
    assert len(written) == len(demo.exported)
