"""Batch upload: each check-in gets its own result, in order; a bad item never blocks the rest."""
import uuid

import pytest
from sqlalchemy import select

from server.extensions import db
from server.models import CheckIn
from tests.builders import (
    CHECKINS,
    assert_error_shape,
    new_checkin,
    odi_answers,
    post_checkin,
    stored_rows,
)

BATCH = f"{CHECKINS}/batch"


def post_batch(client, world, items, caller="patient_a"):
    return client.post(BATCH, json={"checkins": items}, headers=world.headers[caller])


def stored_ids(app):
    with app.app_context():
        return {str(checkin_id) for checkin_id in db.session.scalars(select(CheckIn.id))}


def test_mixed_batch_stores_exactly_the_good_items_and_answers_in_order(app, client, world):
    already = new_checkin(answers={"back": 3})
    post_checkin(client, world, already)
    good = [new_checkin(), new_checkin("odi", odi_answers([1] * 10))]
    bad_answers = new_checkin(answers={"back": 12})
    naive = new_checkin(completed_at="2024-05-01T09:30:00")
    items = [
        good[0],
        bad_answers,
        already,
        {**already, "answers": {"back": 4}},
        naive,
        good[1],
    ]
    response = post_batch(client, world, items)
    assert response.status_code == 200
    results = response.json["results"]
    assert [(result["id"], result["status"]) for result in results] == [
        (good[0]["id"], "created"),
        (bad_answers["id"], "invalid"),
        (already["id"], "duplicate"),
        (already["id"], "conflict"),
        (naive["id"], "invalid"),
        (good[1]["id"], "created"),
    ]
    assert results[1]["errors"]["json"]["answers"] == {"back": ["Must be between 0 and 10."]}
    assert "completed_at" in results[4]["errors"]["json"]
    assert all("errors" not in results[n] for n in (0, 2, 3, 5))
    assert stored_ids(app) == {already["id"], good[0]["id"], good[1]["id"]}


@pytest.mark.parametrize("item", [1, "a check-in", None, [], True, {}, {"id": [1, 2]}])
def test_item_that_is_not_a_checkin_object_is_invalid_alone(app, client, world, item):
    good = new_checkin()
    response = post_batch(client, world, [item, good])
    assert response.status_code == 200
    first, second = response.json["results"]
    assert first["status"] == "invalid" and first["errors"]
    assert (second["id"], second["status"]) == (good["id"], "created")
    assert stored_ids(app) == {good["id"]}


def test_invalid_item_echoes_its_id_when_it_has_one(client, world):
    item = new_checkin(instrument="eq5d")
    result = post_batch(client, world, [item]).json["results"][0]
    assert (result["id"], result["status"]) == (item["id"], "invalid")
    assert result["errors"]["json"]["instrument"] == ["Unknown instrument."]


def test_same_id_twice_in_one_batch_is_created_then_duplicate(app, client, world):
    item = new_checkin()
    results = post_batch(client, world, [item, dict(item)]).json["results"]
    assert [result["status"] for result in results] == ["created", "duplicate"]
    assert stored_rows(app, item["id"]) == 1


def test_same_id_with_other_content_in_one_batch_is_created_then_conflict(app, client, world):
    item = new_checkin(answers={"back": 1})
    results = post_batch(client, world, [item, {**item, "answers": {"back": 2}}]).json["results"]
    assert [result["status"] for result in results] == ["created", "conflict"]
    feed = client.get(CHECKINS, headers=world.headers["patient_a"]).json["items"]
    assert [entry["answers"] for entry in feed] == [{"back": 1}]


def test_replaying_a_whole_batch_stores_nothing_new(app, client, world):
    items = [new_checkin(), new_checkin(answers={"back": 2})]
    post_batch(client, world, items)
    replay = post_batch(client, world, items).json["results"]
    assert [result["status"] for result in replay] == ["duplicate", "duplicate"]
    assert stored_rows(app) == 2


def test_batch_checkins_get_the_same_score_as_single_posts(client, world):
    item = new_checkin("odi", odi_answers([2, 2, 2, 2, 2, 2, 2, 1, 1], missing=1))
    post_batch(client, world, [item])
    stored = post_checkin(client, world, item)
    assert stored.status_code == 200
    assert stored.json["score"] == pytest.approx(100 * 16 / 45)


def test_batch_of_500_is_stored_and_501_is_422(app, client, world):
    items = [new_checkin(answers={"back": n % 11}) for n in range(500)]
    response = post_batch(client, world, items)
    assert [result["status"] for result in response.json["results"]] == ["created"] * 500
    assert stored_rows(app) == 500
    too_many = post_batch(client, world, [new_checkin() for _ in range(501)])
    assert "checkins" in assert_error_shape(too_many, 422)["errors"]["json"]
    assert stored_rows(app) == 500


@pytest.mark.parametrize("body", [{}, {"checkins": []}, {"checkins": {}}, {"checkins": "all"}, []])
def test_batch_without_a_list_of_checkins_is_422(client, world, body):
    response = client.post(BATCH, json=body, headers=world.headers["patient_a"])
    assert_error_shape(response, 422)


def test_batch_is_for_patients_only(client, world):
    response = post_batch(client, world, [new_checkin()], caller="clinician_on_team")
    assert_error_shape(response, 403)


def test_each_patient_gets_their_own_row_for_a_shared_id(app, client, world):
    item = new_checkin()
    assert post_batch(client, world, [item]).json["results"][0]["status"] == "created"
    other = post_batch(client, world, [item], caller="patient_b").json["results"][0]
    assert other["status"] == "created"
    assert stored_rows(app, item["id"]) == 2


def test_batch_results_never_reveal_another_patients_checkin(client, world):
    item = new_checkin(answers={"back": 1})
    post_checkin(client, world, item, caller="patient_b")
    result = post_batch(client, world, [{**item, "answers": {"back": 8}}]).json["results"][0]
    assert result == {"id": item["id"], "status": "created"}


def test_batch_result_ids_are_canonical_uuid_strings(client, world):
    item = new_checkin(id=str(uuid.uuid4()).upper())
    result = post_batch(client, world, [item]).json["results"][0]
    assert result["id"] == item["id"].lower()
