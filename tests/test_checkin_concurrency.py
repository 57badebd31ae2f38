"""Concurrent uploads of one check-in or adverse event store exactly one row."""
import threading
import uuid

from sqlalchemy import func, select

from server.extensions import db
from server.models import AdverseEvent
from tests.builders import CHECKINS, new_checkin, odi_answers, stored_rows

SENDERS = 20


def post_concurrently(app, path, bodies, headers):
    """POST each body from its own thread and test client, all released at once."""
    start = threading.Barrier(len(bodies))
    responses = [None] * len(bodies)

    def send(n):
        sender = app.test_client()
        start.wait()
        responses[n] = sender.post(path, json=bodies[n], headers=headers)

    threads = [threading.Thread(target=send, args=(n,)) for n in range(len(bodies))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return responses


def test_twenty_concurrent_posts_of_one_checkin_store_one_row(app, world):
    body = new_checkin("odi", odi_answers([2] * 10))
    responses = post_concurrently(app, CHECKINS, [body] * SENDERS, world.headers["patient_a"])
    statuses = sorted(response.status_code for response in responses)
    assert statuses == [200] * (SENDERS - 1) + [201]
    assert all(response.json == responses[0].json for response in responses)
    assert stored_rows(app, body["id"]) == 1


def test_concurrent_posts_of_one_id_with_different_content_keep_one_version(app, client, world):
    body = new_checkin(answers={"back": 0})
    bodies = [{**body, "answers": {"back": n % 2}} for n in range(SENDERS)]
    responses = post_concurrently(app, CHECKINS, bodies, world.headers["patient_a"])
    assert stored_rows(app, body["id"]) == 1
    kept = client.get(CHECKINS, headers=world.headers["patient_a"]).json["items"][0]["answers"]
    expected = {n: (201, 200) if bodies[n]["answers"] == kept else (409,) for n in range(SENDERS)}
    assert all(responses[n].status_code in expected[n] for n in range(SENDERS))
    assert [response.status_code for response in responses].count(201) == 1


def test_twenty_concurrent_batches_with_one_checkin_store_one_row(app, world):
    item = new_checkin()
    body = {"checkins": [item]}
    responses = post_concurrently(
        app, f"{CHECKINS}/batch", [body] * SENDERS, world.headers["patient_a"]
    )
    statuses = sorted(response.json["results"][0]["status"] for response in responses)
    assert statuses == ["created"] + ["duplicate"] * (SENDERS - 1)
    assert stored_rows(app, item["id"]) == 1


def test_twenty_concurrent_reports_of_one_adverse_event_store_one_row(app, world):
    body = {
        "id": str(uuid.uuid4()),
        "onset_on": "2024-05-01",
        "description": "Swelling at the injection site",
        "severity": "moderate",
    }
    responses = post_concurrently(
        app, "/api/v1/me/adverse-events", [body] * SENDERS, world.headers["patient_a"]
    )
    assert sorted(response.status_code for response in responses) == [200] * (SENDERS - 1) + [201]
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(AdverseEvent)) == 1
