"""Staff create, read, change and list patients; care teams decide who sees whom."""

from tests.builders import assert_error_shape

PATIENTS = "/api/v1/patients"
FULL_PROFILE = {
    "external_id": "HOSP-0042",
    "display_name": "Dana Doe",
    "birth_year": 1971,
    "sex": "female",
    "condition": "herniated_disc",
    "timezone": "America/Chicago",
    "reminder_time": "18:30",
    "quiet_hours": {"start": "22:00", "end": "07:00"},
    "contact": {"email": "dana@example.test", "push_token": "push-123"},
    "status": "active",
}


def create(client, world, caller="admin", **fields):
    body = {"external_id": "NEW-1", "display_name": "New Patient", **fields}
    return client.post(PATIENTS, json=body, headers=world.headers[caller])


def patient_url(patient_id):
    return f"{PATIENTS}/{patient_id}"


def listed(client, world, caller="admin", query=""):
    response = client.get(f"{PATIENTS}?{query}", headers=world.headers[caller])
    assert response.status_code == 200
    return response.json


def test_created_patient_reads_back_with_every_field(client, world):
    created = create(client, world, **FULL_PROFILE)
    assert created.status_code == 201
    read = client.get(patient_url(created.json["id"]), headers=world.headers["admin"]).json
    assert {name: read[name] for name in FULL_PROFILE} == FULL_PROFILE
    assert read["organization_id"] == world.ids["home"]


def test_patient_created_by_an_admin_gets_the_defaults_and_no_care_team(client, world):
    body = create(client, world).json
    defaults = {
        "timezone": "Europe/Berlin",  # the organization's
        "reminder_time": "09:00",
        "status": "active",
        "quiet_hours": None,
        "care_team": [],
    }
    assert {name: body[name] for name in defaults} == defaults


def test_clinician_creating_a_patient_joins_its_care_team(client, world):
    colleague = world.ids["clinician_off_team"]
    body = create(client, world, "clinician_on_team", care_team=[colleague]).json
    assert body["care_team"] == sorted([colleague, world.ids["clinician_on_team"]])
    read = client.get(patient_url(body["id"]), headers=world.headers["clinician_on_team"])
    assert read.status_code == 200


def test_care_team_must_be_clinicians_of_the_same_organization(client, world):
    for member_id in (world.ids["clinician_other_org"], world.ids["admin"], 999_999):
        response = create(client, world, care_team=[member_id])
        assert set(assert_error_shape(response, 422)["errors"]["json"]) == {"care_team"}
        patch = client.patch(
            patient_url(world.ids["patient_a"]),
            json={"care_team": [member_id]},
            headers=world.headers["admin"],
        )
        assert set(assert_error_shape(patch, 422)["errors"]["json"]) == {"care_team"}


def test_patch_changes_only_the_fields_sent(client, world):
    patient_id = create(client, world, **FULL_PROFILE).json["id"]
    response = client.patch(
        patient_url(patient_id),
        json={"display_name": "Dana D.", "contact": {"email": "new@example.test"}},
        headers=world.headers["admin"],
    )
    contact = {"email": "new@example.test", "push_token": "push-123"}
    expected = {**FULL_PROFILE, "display_name": "Dana D.", "contact": contact}
    assert {name: response.json[name] for name in FULL_PROFILE} == expected


def test_patch_can_clear_quiet_hours_and_withdraw(client, world):
    patient_id = create(client, world, **FULL_PROFILE).json["id"]
    response = client.patch(
        patient_url(patient_id),
        json={"quiet_hours": None, "status": "withdrawn"},
        headers=world.headers["admin"],
    )
    assert (response.json["quiet_hours"], response.json["status"]) == (None, "withdrawn")


def test_clinician_taken_off_the_care_team_loses_access(client, world):
    response = client.patch(
        patient_url(world.ids["patient_a"]),
        json={"care_team": [world.ids["clinician_off_team"]]},
        headers=world.headers["admin"],
    )
    assert response.json["care_team"] == [world.ids["clinician_off_team"]]
    lost = client.get(
        patient_url(world.ids["patient_a"]), headers=world.headers["clinician_on_team"]
    )
    assert_error_shape(lost, 404)


def test_quiet_hours_with_only_a_start_is_422(client, world):
    paths = {"patient_a": "/api/v1/me", "admin": patient_url(world.ids["patient_a"])}
    for caller, path in paths.items():
        response = client.patch(
            path, json={"quiet_hours": {"start": "22:00"}}, headers=world.headers[caller]
        )
        assert set(assert_error_shape(response, 422)["errors"]["json"]) == {"quiet_hours"}


def test_admin_lists_every_patient_of_the_organization(client, world):
    created = create(client, world, "clinician_off_team").json["id"]
    ids = {item["id"] for item in listed(client, world)["items"]}
    assert ids == {world.ids["patient_a"], world.ids["patient_b"], created}


def test_list_searches_external_id_and_name_case_insensitively_and_literally(client, world):
    people = {
        "HOSP-001": "Ann Smith", "HOSP-002": "Bo Lee", "CLINIC-9": "Cy Leeds", "CLINIC_7": "Di"
    }
    for external_id, name in people.items():
        create(client, world, external_id=external_id, display_name=name)
    searches = {
        "hosp-00": ["HOSP-001", "HOSP-002"],
        "LEE": ["HOSP-002", "CLINIC-9"],
        "%25": [],  # a literal %, not a wildcard
        "_": ["CLINIC_7"],
    }
    found = {
        q: [item["external_id"] for item in listed(client, world, query=f"q={q}")["items"]]
        for q in searches
    }
    assert found == searches


def test_list_pages_through_patients_in_a_stable_order(client, world):
    for n in range(3):
        create(client, world, external_id=f"PAGE-{n}")
    pages = [listed(client, world, query=f"per_page=2&page={page}") for page in (1, 2, 3)]
    assert [(page["page"], page["per_page"], page["total"]) for page in pages] == [
        (1, 2, 5), (2, 2, 5), (3, 2, 5),
    ]
    ids = [item["id"] for page in pages for item in page["items"]]
    assert ids == sorted(ids) and len(set(ids)) == 5
