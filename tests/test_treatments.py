"""Treatments recorded by staff: validation, details and who may see or change them."""
import pytest
from sqlalchemy import select

from server.extensions import db
from server.models import AuditEvent
from tests.builders import assert_error_shape

KINDS = [
    "cell_therapy",
    "prp",
    "epidural_steroid",
    "medication",
    "physical_therapy",
    "surgery",
    "other",
]


def treatments_path(patient_id):
    return f"/api/v1/patients/{patient_id}/treatments"


def create(client, world, body, patient_id=None, caller="clinician_on_team"):
    patient_id = patient_id or world.ids["patient_a"]
    return client.post(treatments_path(patient_id), json=body, headers=world.headers[caller])


def cell_therapy(**fields):
    """A valid bone-marrow cell therapy body."""
    return {
        "kind": "cell_therapy",
        "performed_on": "2024-03-05",
        "details": {
            "cell_source": "bone_marrow",
            "target_levels": ["L4-L5", "L5-S1"],
            "notes": "BMAC",
        },
        "protocol": "spine-standard",
        **fields,
    }


def patch(client, world, treatment_id, body, caller="clinician_on_team"):
    return client.patch(
        f"/api/v1/treatments/{treatment_id}", json=body, headers=world.headers[caller]
    )


def test_create_answers_201_with_the_stored_treatment(client, world):
    response = create(client, world, cell_therapy())
    assert response.status_code == 201
    stored = response.json
    assert stored["patient_id"] == world.ids["patient_a"]
    assert (stored["kind"], stored["performed_on"], stored["protocol"]) == (
        "cell_therapy",
        "2024-03-05",
        "spine-standard",
    )
    assert stored["details"] == {
        "cell_source": "bone_marrow",
        "target_levels": ["L4-L5", "L5-S1"],
        "notes": "BMAC",
    }


@pytest.mark.parametrize("kind", KINDS)
def test_every_kind_is_accepted(client, world, kind):
    response = create(client, world, {"kind": kind, "performed_on": "2024-01-01"})
    assert response.status_code == 201
    assert response.json["details"] == {"cell_source": None, "target_levels": [], "notes": None}
    assert response.json["protocol"] is None


@pytest.mark.parametrize("source", ["bone_marrow", "adipose", "umbilical", "allogeneic_other"])
def test_every_cell_source_is_accepted_for_cell_therapy(client, world, source):
    response = create(client, world, cell_therapy(details={"cell_source": source}))
    assert response.json["details"]["cell_source"] == source


def test_list_is_in_date_order_and_get_returns_one(client, world):
    late = create(client, world, {"kind": "surgery", "performed_on": "2024-09-01"}).json
    early = create(client, world, cell_therapy()).json
    listed = client.get(treatments_path(world.ids["patient_a"]), headers=world.headers["admin"])
    assert [treatment["id"] for treatment in listed.json] == [early["id"], late["id"]]
    one = client.get(f"/api/v1/treatments/{late['id']}", headers=world.headers["clinician_on_team"])
    assert one.json == late


def test_patch_changes_only_the_given_fields(client, world):
    created = create(client, world, cell_therapy()).json
    response = patch(
        client, world, created["id"], {"performed_on": "2024-03-07", "details": {"notes": "moved"}}
    )
    assert response.status_code == 200
    changed = response.json
    assert changed["performed_on"] == "2024-03-07"
    assert changed["details"] == {**created["details"], "notes": "moved"}
    assert (changed["kind"], changed["protocol"]) == ("cell_therapy", "spine-standard")


def test_patch_can_clear_the_protocol_and_the_cell_source_with_the_kind(client, world):
    created = create(client, world, cell_therapy()).json
    response = patch(
        client,
        world,
        created["id"],
        {"kind": "prp", "protocol": None, "details": {"cell_source": None}},
    )
    assert response.status_code == 200
    assert (response.json["kind"], response.json["protocol"]) == ("prp", None)
    assert response.json["details"]["cell_source"] is None


@pytest.mark.parametrize("kind", ["prp", "surgery", "epidural_steroid"])
def test_cell_source_on_another_kind_is_422(client, world, kind):
    response = create(client, world, {**cell_therapy(), "kind": kind})
    body = assert_error_shape(response, 422)
    assert "cell_source" in body["errors"]["json"]["details"]


def test_changing_the_kind_away_from_cell_therapy_while_a_source_is_set_is_422(client, world):
    created = create(client, world, cell_therapy()).json
    assert_error_shape(patch(client, world, created["id"], {"kind": "prp"}), 422)
    unchanged = client.get(f"/api/v1/treatments/{created['id']}", headers=world.headers["admin"])
    assert unchanged.json["kind"] == "cell_therapy"


@pytest.mark.parametrize(
    "levels", [["L4-L5"], ["L5-S1"], ["L3-L4", "L4-L5"], ["L4"], ["T12-L1"], []]
)
def test_spinal_levels_are_accepted(client, world, levels):
    response = create(client, world, cell_therapy(details={"target_levels": levels}))
    assert response.status_code == 201
    assert response.json["details"]["target_levels"] == levels


@pytest.mark.parametrize(
    "levels", [["L6-S1"], ["lumbar"], ["L4L5"], ["l4-l5"], ["L4-L5 "], "L4-L5", [4], ["L4-L5"] * 11]
)
def test_target_levels_that_are_not_spinal_levels_are_422(client, world, levels):
    response = create(client, world, cell_therapy(details={"target_levels": levels}))
    assert "target_levels" in assert_error_shape(response, 422)["errors"]["json"]["details"]


@pytest.mark.parametrize(
    "body, field",
    [
        ({"kind": "acupuncture", "performed_on": "2024-01-01"}, "kind"),
        ({"performed_on": "2024-01-01"}, "kind"),
        ({"kind": "prp"}, "performed_on"),
        ({"kind": "prp", "performed_on": "2024-02-30"}, "performed_on"),
        ({"kind": "prp", "performed_on": "2024-01-01T10:00:00Z"}, "performed_on"),
        ({"kind": "prp", "performed_on": "2024-01-01", "protocol": "weekly"}, "protocol"),
        ({"kind": "prp", "performed_on": "2024-01-01", "protocol": 3}, "protocol"),
        ({"kind": "prp", "performed_on": "2024-01-01", "details": None}, "details"),
        ({"kind": "prp", "performed_on": "2024-01-01", "details": "BMAC"}, "details"),
        (
            {
                "kind": "cell_therapy",
                "performed_on": "2024-01-01",
                "details": {"cell_source": "blood"},
            },
            "details",
        ),
        (
            {"kind": "prp", "performed_on": "2024-01-01", "details": {"notes": "x" * 2001}},
            "details",
        ),
        ({"kind": "prp", "performed_on": "2024-01-01", "details": {"notes": "a\x00b"}}, "details"),
        ({"kind": "prp", "performed_on": "2024-01-01", "surgeon": "Dr X"}, "surgeon"),
    ],
)
def test_invalid_body_is_422_naming_the_field(client, world, body, field):
    assert field in assert_error_shape(create(client, world, body), 422)["errors"]["json"]


def test_every_protocol_code_is_accepted(client, world):
    for code in ("spine-standard", "pain-diary"):
        response = create(
            client, world, {"kind": "prp", "performed_on": "2024-01-01", "protocol": code}
        )
        assert response.json["protocol"] == code


@pytest.mark.parametrize("caller", ["clinician_off_team", "clinician_other_org"])
def test_treatments_out_of_reach_answer_like_missing_ones(client, world, caller):
    treatment = create(client, world, cell_therapy()).json
    headers = world.headers[caller]
    patient_path = treatments_path(world.ids["patient_a"])
    missing_patient = treatments_path(987654)
    pairs = [
        (client.get(patient_path, headers=headers), client.get(missing_patient, headers=headers)),
        (
            client.post(patient_path, json=cell_therapy(), headers=headers),
            client.post(missing_patient, json=cell_therapy(), headers=headers),
        ),
        (
            client.get(f"/api/v1/treatments/{treatment['id']}", headers=headers),
            client.get("/api/v1/treatments/987654", headers=headers),
        ),
        (
            patch(client, world, treatment["id"], {"kind": "surgery"}, caller=caller),
            patch(client, world, 987654, {"kind": "surgery"}, caller=caller),
        ),
    ]
    for out_of_reach, missing in pairs:
        assert assert_error_shape(out_of_reach, 404) == assert_error_shape(missing, 404)
    listed = client.get(patient_path, headers=world.headers["admin"]).json
    assert [(t["id"], t["kind"]) for t in listed] == [(treatment["id"], "cell_therapy")]


def test_patients_cannot_read_or_record_treatments(client, world):
    path = treatments_path(world.ids["patient_a"])
    assert_error_shape(client.get(path, headers=world.headers["patient_a"]), 403)
    assert_error_shape(
        client.post(path, json=cell_therapy(), headers=world.headers["patient_a"]), 403
    )


def test_staff_reads_and_writes_of_treatments_are_audited(app, client, world):
    created = create(client, world, cell_therapy()).json
    client.get(treatments_path(world.ids["patient_a"]), headers=world.headers["clinician_on_team"])
    client.get(f"/api/v1/treatments/{created['id']}", headers=world.headers["clinician_on_team"])
    patch(client, world, created["id"], {"details": {"notes": "checked"}})
    with app.app_context():
        actions = db.session.scalars(
            select(AuditEvent.action)
            .where(AuditEvent.patient_id == world.ids["patient_a"])
            .order_by(AuditEvent.id)
        ).all()
    assert actions == ["treatment.create", "treatment.list", "treatment.read", "treatment.update"]
