"""Random and malformed bodies on every endpoint that takes one: never a server error."""
import json
import random
import uuid

from tests.builders import (
    CHECKINS,
    SECTIONS,
    add_treatment,
    assert_error_shape,
    new_checkin,
    odi_answers,
)

FUZZ_SEED = 20240501
FUZZ_BODIES = 200
FUZZ_STRINGS = (
    "",
    " ",
    "odi",
    "nrs_pain",
    "L4-L5",
    "bone_marrow",
    "severe",
    "ü漢字🙂",
    "a\x00b",
    "\ud800",
    "x" * 3000,
    "2024-05-01",
    "2024-05-01T10:00:00Z",
    "2024-05-01T10:00:00",
    "0001-01-01T00:00:00+14:00",
    "9999-12-31T23:59:59-12:00",
    "00000000-0000-0000-0000-000000000000",
)
FUZZ_NUMBERS = (
    0,
    -1,
    1,
    5,
    11,
    2**31,
    2**63,
    -(10**30),
    10**400,
    0.5,
    1e308,
    -0.0,
    1e-320,
    float("nan"),
    float("inf"),
)


def _junk(rng, depth=0):
    """A random JSON value: scalars of every type, odd text and numbers, nested containers."""
    kind = rng.randrange(7 if depth < 3 else 4)
    if kind == 0:
        return rng.choice((None, True, False))
    if kind == 1:
        return rng.choice(FUZZ_NUMBERS)
    if kind in (2, 3):
        return rng.choice(FUZZ_STRINGS)
    if kind == 4:
        return [_junk(rng, depth + 1) for _ in range(rng.randrange(4))]
    keys = FUZZ_STRINGS + tuple(SECTIONS) + ("back", "leg", "id", "answers", "checkins")
    return {rng.choice(keys): _junk(rng, depth + 1) for _ in range(rng.randrange(4))}


def _mutated(rng, valid):
    """A valid body with some fields replaced, dropped or nested junk added, or plain junk."""
    roll = rng.random()
    if roll < 0.15:
        return _junk(rng)
    body = dict(valid)
    for _ in range(rng.randint(1, 3)):
        field = rng.choice([*body, "extra"])
        action = rng.random()
        if action < 0.2:
            body.pop(field, None)
        elif action < 0.4 and isinstance(body.get(field), dict):
            body[field] = {
                **body[field],
                rng.choice(FUZZ_STRINGS + ("back", "walking")): _junk(rng),
            }
        else:
            body[field] = _junk(rng)
    return body


def _fuzz_targets(client, world):
    """(path, caller, valid body maker, share of bodies mutated) per endpoint taking a body."""
    treatment = add_treatment(client, world, world.ids["patient_a"], "2024-04-30")
    event = {"onset_on": "2024-05-02", "description": "Sore", "severity": "mild"}
    return [
        (CHECKINS, "patient_a", lambda rng: new_checkin("odi", odi_answers([1] * 10)), 0.9),
        (
            f"{CHECKINS}/batch",
            "patient_a",
            lambda rng: {
                "checkins": [_mutated(rng, new_checkin()) for _ in range(rng.randrange(6))]
            },
            0.2,
        ),
        (
            "/api/v1/me/adverse-events",
            "patient_a",
            lambda rng: {"id": str(uuid.uuid4()), **event, "treatment_id": treatment},
            0.9,
        ),
        (
            f"/api/v1/patients/{world.ids['patient_a']}/treatments",
            "clinician_on_team",
            lambda rng: {
                "kind": "cell_therapy",
                "performed_on": "2024-01-01",
                "details": {"cell_source": "adipose", "target_levels": ["L4-L5"]},
            },
            0.9,
        ),
        (
            f"/api/v1/treatments/{treatment}",
            "clinician_on_team",
            lambda rng: {"kind": "prp", "details": {"notes": "checked"}},
            0.9,
        ),
    ]


def test_no_random_body_yields_a_server_error(client, world):
    rng = random.Random(FUZZ_SEED)
    failures = []
    for path, caller, valid, mutate in _fuzz_targets(client, world):
        method = "PATCH" if path.startswith("/api/v1/treatments/") else "POST"
        for _ in range(FUZZ_BODIES):
            body = valid(rng)
            if rng.random() < mutate:
                body = _mutated(rng, body)
            response = client.open(
                path,
                method=method,
                data=json.dumps(body),
                content_type="application/json",
                headers=world.headers[caller],
            )
            if response.status_code >= 500:
                failures.append((path, body, response.status_code))
            elif response.status_code >= 400:
                assert_error_shape(response, response.status_code)
    assert failures == []
