"""Staff sign-in, token expiry and revocation, and patient device enrollment."""
import re
from datetime import datetime, timedelta, timezone

from tests.builders import PASSWORD, assert_error_shape, email_of, fresh_enrollment_code

LOGIN = "/api/v1/auth/login"
ENROLL = "/api/v1/auth/enroll"
ME = "/api/v1/me"
T0 = datetime(2025, 3, 1, 8, 0, tzinfo=timezone.utc)
AMBIGUOUS = set("0O1IL2Z5S8B")


def login(client, email, password=PASSWORD, ip="127.0.0.1"):
    body = {"email": email, "password": password}
    return client.post(LOGIN, json=body, environ_base={"REMOTE_ADDR": ip})


def bearer(token):
    return {"Authorization": f"Bearer {token}"}


def admin_email(app, world):
    return email_of(app, world.ids["admin"])


def new_code_for_patient_a(app, world):
    return fresh_enrollment_code(app, world.ids["clinician_on_team"], world.ids["patient_a"])


def enroll(client, code, label="phone"):
    return client.post(ENROLL, json={"code": code, "device_label": label})


def staff_can_list_patients(client, token):
    return client.get("/api/v1/patients", headers=bearer(token)).status_code == 200


# Sign-in


def test_login_returns_a_bearer_token_and_the_user(app, client, world, clock):
    clock.set_now(T0)
    response = login(client, admin_email(app, world))
    assert response.status_code == 200
    body = response.json
    assert body["token_type"] == "Bearer"
    assert datetime.fromisoformat(body["expires_at"]) == T0 + timedelta(hours=12)
    assert body["user"] == {
        "id": world.ids["admin"],
        "email": admin_email(app, world),
        "role": "admin",
        "organization_id": world.ids["home"],
    }
    assert staff_can_list_patients(client, body["access_token"])


def test_login_ignores_email_case_and_surrounding_spaces(app, client, world):
    response = login(client, f"  {admin_email(app, world).upper()} ")
    assert response.status_code == 200


def test_unknown_email_and_wrong_password_get_the_same_401(app, client, world):
    unknown = login(client, "nobody@example.test")
    wrong = login(client, admin_email(app, world), "not the password")
    assert assert_error_shape(unknown, 401) == assert_error_shape(wrong, 401)
    assert unknown.headers["WWW-Authenticate"] == wrong.headers["WWW-Authenticate"]


def test_sixth_failure_within_a_minute_is_429_even_with_the_right_password(app, client, world):
    email = admin_email(app, world)
    assert [login(client, email, "wrong").status_code for _ in range(5)] == [401] * 5
    assert_error_shape(login(client, email), 429)


def test_successful_logins_do_not_count_towards_the_limit(app, client, world):
    email = admin_email(app, world)
    assert [login(client, email, "wrong").status_code for _ in range(4)] == [401] * 4
    assert [login(client, email).status_code for _ in range(3)] == [200] * 3
    assert login(client, email, "wrong").status_code == 401
    assert login(client, email).status_code == 429


def test_failures_are_limited_per_email_across_addresses_and_per_address_across_emails(
    app, client, world
):
    email = admin_email(app, world)
    one_email = [login(client, email, "wrong", ip=f"10.0.0.{n}").status_code for n in range(6)]
    one_address = [login(client, f"guess{n}@example.test").status_code for n in range(6)]
    assert one_email == [401] * 5 + [429]
    assert one_address == [401] * 5 + [429]


def test_missing_or_bad_authorization_is_401(client):
    for header in ("", "Bearer", "Bearer ", "Basic abc", "Bearer not-a-token"):
        response = client.get("/api/v1/patients", headers={"Authorization": header})
        assert_error_shape(response, 401)
        assert response.headers["WWW-Authenticate"].startswith("Bearer")


# Sign-out and expiry


def test_logout_revokes_only_the_presented_token(app, client, world):
    email = admin_email(app, world)
    first, second = (login(client, email).json["access_token"] for _ in range(2))
    assert client.post("/api/v1/auth/logout", headers=bearer(first)).status_code == 204
    assert not staff_can_list_patients(client, first)
    assert staff_can_list_patients(client, second)


def test_staff_token_lapses_after_30_idle_minutes_but_use_keeps_it_alive(app, client, world, clock):
    clock.set_now(T0)
    token = login(client, admin_email(app, world)).json["access_token"]
    for minutes in (29, 58):
        clock.set_now(T0 + timedelta(minutes=minutes))
        assert staff_can_list_patients(client, token)
    clock.set_now(T0 + timedelta(minutes=88, seconds=1))
    assert not staff_can_list_patients(client, token)


def test_staff_token_lapses_after_12_hours_even_when_used(app, client, world, clock):
    clock.set_now(T0)
    token = login(client, admin_email(app, world)).json["access_token"]
    for step in range(1, 25):
        clock.set_now(T0 + step * timedelta(minutes=29))
        assert staff_can_list_patients(client, token)
    clock.set_now(T0 + timedelta(hours=12))
    assert not staff_can_list_patients(client, token)


# Enrollment codes and devices

CODE_FORMAT = re.compile(r"^[A-Z0-9]{4}-[A-Z0-9]{4}$")


def test_enrollment_code_is_easy_to_type_and_lasts_72_hours(client, world, clock):
    clock.set_now(datetime.now(timezone.utc))
    path = f"/api/v1/patients/{world.ids['patient_a']}/enrollment-code"
    codes = []
    for _ in range(20):
        response = client.post(path, headers=world.headers["clinician_on_team"])
        assert response.status_code == 201
        expires_at = datetime.fromisoformat(response.json["expires_at"])
        assert expires_at == clock.utcnow() + timedelta(hours=72)
        codes.append(response.json["code"])
    assert all(CODE_FORMAT.match(code) for code in codes)
    assert not AMBIGUOUS & set("".join(codes))


def test_enrollment_code_ignores_case_dashes_and_spaces(app, client, world):
    variants = (str.lower, lambda code: code.replace("-", ""), lambda code: code.replace("-", " "))
    for typed in variants:
        response = enroll(client, f" {typed(new_code_for_patient_a(app, world))} ")
        assert response.status_code == 201


def test_enrollment_gives_a_180_day_device_token_for_me(app, client, world, clock):
    clock.set_now(T0)
    response = enroll(client, new_code_for_patient_a(app, world))
    assert response.status_code == 201
    assert response.json["token_type"] == "Bearer"
    assert datetime.fromisoformat(response.json["expires_at"]) == T0 + timedelta(days=180)
    assert response.json["patient"]["id"] == world.ids["patient_a"]
    clock.set_now(T0 + timedelta(days=179))
    me = client.get(ME, headers=bearer(response.json["access_token"]))
    assert me.status_code == 200
    assert me.json["id"] == world.ids["patient_a"]


def test_enrollment_code_works_once(app, client, world):
    code = new_code_for_patient_a(app, world)
    assert enroll(client, code).status_code == 201
    assert "already used or has expired" in assert_error_shape(enroll(client, code), 410)["message"]


def test_enrollment_code_expires_after_72_hours(app, client, world, clock):
    clock.set_now(datetime.now(timezone.utc))
    code = new_code_for_patient_a(app, world)
    clock.set_now(clock.utcnow() + timedelta(hours=72, seconds=1))
    assert_error_shape(enroll(client, code), 410)


def test_unknown_or_malformed_enrollment_code_is_422_naming_the_code_without_a_challenge(client):
    # A 401 would make the app's "on 401, sign out" handler fire for a typing mistake.
    for typed in ("ACDE-FGHJ", "x" * 33, "AC\x01DE"):
        response = enroll(client, typed)
        assert set(assert_error_shape(response, 422)["errors"]["json"]) == {"code"}, typed
        assert "WWW-Authenticate" not in response.headers


def test_new_enrollment_code_invalidates_the_older_one(app, client, world):
    older = new_code_for_patient_a(app, world)
    newer = new_code_for_patient_a(app, world)
    assert_error_shape(enroll(client, older), 410)
    assert enroll(client, newer).status_code == 201


def test_withdrawn_patient_cannot_enroll(app, client, world):
    code = new_code_for_patient_a(app, world)
    client.patch(
        f"/api/v1/patients/{world.ids['patient_a']}",
        json={"status": "withdrawn"},
        headers=world.headers["admin"],
    )
    assert_error_shape(enroll(client, code), 410)


def test_enroll_failures_are_rate_limited(client):
    statuses = [enroll(client, f"ACDE-{n:04d}").status_code for n in range(11)]
    assert statuses == [422] * 10 + [429]


def test_used_codes_and_malformed_codes_count_as_failed_enrollments(app, client, world):
    app.config["ENROLL_FAILURE_LIMIT"] = "3 per minute"
    used = new_code_for_patient_a(app, world)
    assert enroll(client, used).status_code == 201
    statuses = [enroll(client, typed).status_code for typed in (used, "x" * 33, "ACDE-FGHJ")]
    assert statuses == [410, 422, 422]
    assert_error_shape(enroll(client, new_code_for_patient_a(app, world)), 429)


def test_a_refused_device_label_does_not_count_as_a_failed_enrollment(app, client, world):
    app.config["ENROLL_FAILURE_LIMIT"] = "3 per minute"
    code = new_code_for_patient_a(app, world)
    for _ in range(4):
        response = client.post(ENROLL, json={"code": code, "device_label": "x" * 101})
        assert set(assert_error_shape(response, 422)["errors"]["json"]) == {"device_label"}
    assert enroll(client, code).status_code == 201


def test_revoking_devices_ends_every_device_token_of_the_patient(app, client, world):
    devices = [enroll(client, new_code_for_patient_a(app, world)) for _ in range(2)]
    tokens = [device.json["access_token"] for device in devices]
    response = client.delete(
        f"/api/v1/patients/{world.ids['patient_a']}/devices",
        headers=world.headers["clinician_on_team"],
    )
    assert response.json == {"revoked": 3}
    for headers in [bearer(token) for token in tokens] + [world.headers["patient_a"]]:
        assert_error_shape(client.get(ME, headers=headers), 401)
    assert client.get(ME, headers=world.headers["patient_b"]).status_code == 200


# The patient's own profile


def test_patient_changes_own_preferences(client, world):
    changes = {
        "timezone": "America/Chicago",
        "reminder_time": "19:45",
        "quiet_hours": {"start": "22:00", "end": "07:00"},
        "contact": {"email": "me@example.test", "push_token": "push-abc"},
    }
    response = client.patch(ME, json=changes, headers=world.headers["patient_a"])
    assert response.status_code == 200
    assert {name: response.json[name] for name in changes} == changes


def test_patient_cannot_set_organization_care_team_or_status(client, world):
    refused = {
        "organization_id": 2, "organization": "Other", "care_team": [1], "status": "withdrawn"
    }
    for field, value in refused.items():
        response = client.patch(ME, json={field: value}, headers=world.headers["patient_a"])
        assert assert_error_shape(response, 422)["errors"]["json"] == {field: ["Unknown field."]}
    assert client.get(ME, headers=world.headers["patient_a"]).json["status"] == "active"
