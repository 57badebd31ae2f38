"""What the OpenAPI document promises beyond the schemas: ids, roles, security and statuses."""
import pytest

PUBLIC = {
    ("post", "/api/v1/auth/login"),
    ("post", "/api/v1/auth/enroll"),
    ("get", "/api/v1/fhir/metadata"),
    ("get", "/healthz"),
    ("get", "/readyz"),
    ("get", "/api/openapi.json"),
    ("get", "/api/docs"),
}


@pytest.fixture
def document(client):
    return client.get("/api/openapi.json").json


def operations(document):
    for path, item in document["paths"].items():
        for method, operation in item.items():
            if method != "parameters":
                yield method, path, operation


def test_every_operation_has_a_unique_id_a_summary_a_tag_and_says_who_may_call(document):
    ids = [operation["operationId"] for _, _, operation in operations(document)]
    assert len(ids) == len(set(ids))
    for method, path, operation in operations(document):
        assert operation["summary"] and operation["tags"], (method, path)
        assert operation["x-roles"], (method, path)
        assert operation["description"].endswith("."), (method, path)
        assert "Who may call:" in operation["description"], (method, path)


def test_only_public_operations_need_no_bearer_token(document):
    assert document["security"] == [{"bearerAuth": []}]
    public = {(m, p) for m, p, op in operations(document) if op.get("security") == []}
    assert public == PUBLIC
    for method, path, operation in operations(document):
        assert (operation["x-roles"] == ["anyone"]) == ((method, path) in PUBLIC), (method, path)


def test_no_operation_falls_back_to_a_default_response(document):
    for method, path, operation in operations(document):
        assert "default" not in operation["responses"], (method, path)
        assert "500" in operation["responses"], (method, path)


def _shared(document, reference):
    return document["components"]["responses"][reference["$ref"].rsplit("/", 1)[-1]]


def test_statuses_follow_from_the_operations_shape(document):
    for method, path, operation in operations(document):
        responses = operation["responses"]
        if "requestBody" in operation:
            assert {"400", "413", "415", "422"} <= set(responses), (method, path)
        if "{" in path:
            assert "404" in responses, (method, path)
        if operation["x-roles"] != ["anyone"]:
            assert "401" in responses, (method, path)
        if method != "get":
            assert "409" in responses, (method, path)


def test_rate_limited_and_unavailable_answers_document_retry_after(document):
    limited = {p for m, p, op in operations(document) if "429" in op["responses"]}
    assert limited == {
        "/healthz",
        "/readyz",
        "/api/openapi.json",
        "/api/docs",
        "/api/v1/fhir/metadata",
        "/api/v1/auth/login",
        "/api/v1/auth/enroll",
        "/api/v1/me/checkins",
        "/api/v1/me/checkins/batch",
    }
    for _, _, operation in operations(document):
        for status in ("429", "503"):
            if status in operation["responses"] and "$ref" in operation["responses"][status]:
                response = _shared(document, operation["responses"][status])
                assert "Retry-After" in response["headers"]


def test_the_document_names_its_server_licence_and_contact(document):
    assert document["openapi"] == "3.1.0"
    assert document["servers"] and document["info"]["description"]
    assert document["info"]["license"]["identifier"] == "MIT"
    assert document["info"]["contact"]["url"]


def test_the_checkin_body_is_one_schema_per_instrument(document):
    schemas = document["components"]["schemas"]
    body = schemas["CheckInSubmit"]
    assert body["discriminator"]["propertyName"] == "instrument"
    odi = schemas["CheckInSubmitOdi"]["properties"]["answers"]
    assert odi["additionalProperties"] is False
    assert odi["properties"]["walking"] == {
        "type": ["integer", "null"],
        "description": "Walking",
        "minimum": 0,
        "maximum": 5,
    }
    assert schemas["CheckInSubmitNrsPain"]["properties"]["answers"]["required"] == ["back"]
