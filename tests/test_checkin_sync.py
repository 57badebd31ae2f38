"""Incremental pull for a second device: every change once, in the order the server stored it."""
import threading

import pytest

from tests.builders import CHECKINS, assert_error_shape, new_checkin, post_checkin

WRITERS = 4
PER_WRITER = 10


def pull(client, headers, since=None, limit=None):
    query = {key: value for key, value in (("since", since), ("limit", limit)) if value is not None}
    response = client.get(CHECKINS, query_string=query, headers=headers)
    assert response.status_code == 200, response.json
    return response.json


def pull_everything(client, headers, since="0", limit=3):
    """Follow the cursor until a page says nothing more follows; returns (items, final cursor)."""
    items = []
    while True:
        page = pull(client, headers, since, limit)
        items.extend(page["items"])
        since = page["next_cursor"]
        if not page["has_more"]:
            return items, since


def test_pull_returns_checkins_in_the_order_received_not_completed(client, world):
    later = new_checkin(completed_at="2024-06-01T10:00:00Z")
    earlier = new_checkin(completed_at="2024-01-01T10:00:00Z")
    post_checkin(client, world, later)
    post_checkin(client, world, earlier)
    page = pull(client, world.headers["patient_a"])
    assert [item["id"] for item in page["items"]] == [later["id"], earlier["id"]]
    assert page["items"][0]["score"] == 6.0 and page["items"][0]["context"] == []


def test_pages_neither_skip_nor_repeat_while_checkins_arrive(client, world):
    headers = world.headers["patient_a"]
    posted = [new_checkin() for _ in range(5)]
    for body in posted:
        post_checkin(client, world, body)
    seen, cursor = [], "0"
    for round_ in range(4):
        page = pull(client, headers, cursor, limit=2)
        seen.extend(item["id"] for item in page["items"])
        cursor = page["next_cursor"]
        arriving = new_checkin(answers={"back": round_})
        post_checkin(client, world, arriving)
        posted.append(arriving)
    rest, _ = pull_everything(client, headers, cursor, limit=2)
    seen.extend(item["id"] for item in rest)
    assert seen == [body["id"] for body in posted]


def test_next_cursor_stays_put_when_nothing_is_new(client, world):
    headers = world.headers["patient_a"]
    empty = pull(client, headers)
    assert empty == {"items": [], "next_cursor": "0", "has_more": False}
    post_checkin(client, world, new_checkin())
    page = pull(client, headers)
    cursor = page["next_cursor"]
    assert pull(client, headers, cursor) == {"items": [], "next_cursor": cursor, "has_more": False}
    post_checkin(client, world, new_checkin())
    assert len(pull(client, headers, cursor)["items"]) == 1


def test_limit_caps_the_page_and_the_cursor_resumes_after_it(client, world):
    headers = world.headers["patient_a"]
    posted = [new_checkin() for _ in range(5)]
    for body in posted:
        post_checkin(client, world, body)
    first = pull(client, headers, limit=3)
    second = pull(client, headers, first["next_cursor"], limit=3)
    assert [item["id"] for item in first["items"] + second["items"]] == [b["id"] for b in posted]
    assert len(first["items"]) == 3
    assert (first["has_more"], second["has_more"]) == (True, False)


@pytest.mark.parametrize("count, sizes", [(0, [0]), (1, [1]), (6, [3, 3]), (7, [3, 3, 1])])
def test_following_next_cursor_until_has_more_is_false_gets_every_checkin_once(
    client, world, count, sizes
):
    headers = world.headers["patient_a"]
    posted = [new_checkin(answers={"back": n % 11}) for n in range(count)]
    for body in posted:
        post_checkin(client, world, body)
    pages, since = [], None
    while not pages or pages[-1]["has_more"]:
        pages.append(pull(client, headers, since, limit=3))
        since = pages[-1]["next_cursor"]
    assert [item["id"] for page in pages for item in page["items"]] == [b["id"] for b in posted]
    assert [len(page["items"]) for page in pages] == sizes
    assert all(isinstance(page["next_cursor"], str) for page in pages)


def test_an_empty_since_means_from_the_start_and_one_past_the_end_finds_nothing(client, world):
    body = new_checkin()
    post_checkin(client, world, body)
    page = pull(client, world.headers["patient_a"], since="")
    assert [item["id"] for item in page["items"]] == [body["id"]]
    for beyond in ("2147483647", "2147483648", "9999999999"):
        past = pull(client, world.headers["patient_a"], since=beyond)
        assert past == {"items": [], "next_cursor": "2147483647", "has_more": False}


def test_since_and_next_cursor_are_one_type_in_the_document(client):
    spec = client.get("/api/openapi.json").json
    changes = spec["components"]["schemas"]["CheckInChanges"]
    parameters = spec["paths"]["/api/v1/me/checkins"]["get"]["parameters"]
    since = next(p["schema"] for p in parameters if p["name"] == "since")
    cursor = changes["properties"]["next_cursor"]
    assert since["type"] == cursor["type"] == "string"
    assert since["pattern"] == cursor["pattern"] == "^[0-9]{0,10}$"
    assert changes["properties"]["has_more"]["type"] == "boolean"
    assert {"next_cursor", "has_more"} <= set(changes["required"])


def test_replays_and_rejected_checkins_do_not_appear_twice(client, world):
    headers = world.headers["patient_a"]
    body = new_checkin()
    post_checkin(client, world, body)
    cursor = pull(client, headers)["next_cursor"]
    post_checkin(client, world, body)
    post_checkin(client, world, {**body, "answers": {"back": 1}})
    post_checkin(client, world, new_checkin(answers={"back": 99}))
    assert pull(client, headers, cursor)["items"] == []


def test_voided_checkin_reappears_in_the_feed_as_voided(client, world):
    headers = world.headers["patient_a"]
    body, other = new_checkin(), new_checkin()
    post_checkin(client, world, body)
    post_checkin(client, world, other)
    cursor = pull(client, headers)["next_cursor"]
    client.post(f"{CHECKINS}/{body['id']}/void", json={"reason": "wrong"}, headers=headers)
    page = pull(client, headers, cursor)
    assert [(item["id"], item["voided"]) for item in page["items"]] == [(body["id"], True)]
    everything, _ = pull_everything(client, headers)
    assert [(item["id"], item["voided"]) for item in everything] == [
        (other["id"], False),
        (body["id"], True),
    ]


def test_feed_shows_only_the_callers_checkins(client, world):
    post_checkin(client, world, new_checkin(), caller="patient_b")
    assert pull(client, world.headers["patient_a"])["items"] == []


@pytest.mark.parametrize(
    "query, field",
    [
        ("?limit=0", "limit"),
        ("?limit=201", "limit"),
        ("?since=-1", "since"),
        ("?since=abc", "since"),
        ("?since=99999999999", "since"),
        ("?since=1.5", "since"),
        ("?since=1e3", "since"),
        ("?since=%2B1", "since"),
        ("?since=%201", "since"),
        ("?since=0x10", "since"),
        ("?limit=1.5", "limit"),
    ],
)
def test_bad_cursor_or_limit_is_422(client, world, query, field):
    response = client.get(f"{CHECKINS}{query}", headers=world.headers["patient_a"])
    assert field in assert_error_shape(response, 422)["errors"]["query"]


def test_limit_of_200_is_allowed(client, world):
    assert pull(client, world.headers["patient_a"], limit=200)["items"] == []


def test_pull_sees_every_checkin_once_while_threads_post(app, client, world):
    headers = world.headers["patient_a"]
    bodies = [
        [new_checkin(answers={"back": n % 11}) for n in range(PER_WRITER)] for _ in range(WRITERS)
    ]
    failures = []

    def write(own):
        writer = app.test_client()
        for body in own:
            response = writer.post(CHECKINS, json=body, headers=headers)
            if response.status_code != 201:
                failures.append(response.status_code)

    threads = [threading.Thread(target=write, args=(own,)) for own in bodies]
    for thread in threads:
        thread.start()
    seen, cursor = [], "0"
    while any(thread.is_alive() for thread in threads):
        page = pull(client, headers, cursor, limit=5)
        seen.extend(item["id"] for item in page["items"])
        cursor = page["next_cursor"]
    for thread in threads:
        thread.join()
    rest, _ = pull_everything(client, headers, cursor, limit=5)
    seen.extend(item["id"] for item in rest)
    assert failures == []
    assert len(seen) == len(set(seen)) == WRITERS * PER_WRITER
    assert set(seen) == {body["id"] for own in bodies for body in own}
