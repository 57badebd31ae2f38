"""The served OpenAPI document: valid OpenAPI 3, clean under Redocly, and true to the routes."""
import json
import re

import pytest
from openapi_spec_validator import validate
from openapi_spec_validator.validation.exceptions import OpenAPIValidationError

from server import create_app
from tests.builders import TEST_SETTINGS
from tests.contract.tooling import ROOT, node_tool, run_tool, served_document, write_document

# Swagger UI's static assets: files, not API.
DOCS_ENDPOINTS = {"docs_assets.asset"}
# Redocly warnings the document must not have, beside every error.
FORBIDDEN_WARNINGS = {"operation-operationId", "operation-4xx-response"}


@pytest.fixture(scope="module")
def app():
    """An app that only serves its document: no database is touched."""
    return create_app({**TEST_SETTINGS, "SQLALCHEMY_DATABASE_URI": "sqlite://"})


@pytest.fixture(scope="module")
def document(app):
    return served_document(app)


def test_the_document_is_valid_openapi(document):
    try:
        validate(document)
    except OpenAPIValidationError as exc:
        pytest.fail(f"openapi-spec-validator: {exc}", pytrace=False)


def test_redocly_finds_no_error_and_no_missing_operation_id_or_4xx(document, tmp_path):
    path = write_document(document, tmp_path)
    result = run_tool(
        [node_tool("redocly"), "lint", "--config", ROOT / "redocly.yaml", "--format=json", path]
    )
    assert result.stdout, result.stderr
    problems = json.loads(result.stdout)["problems"]
    failing = [
        f"{p['severity']} {p['ruleId']} at {p['location'][0]['pointer']}: {p['message']}"
        for p in problems
        if p["severity"] == "error" or p["ruleId"] in FORBIDDEN_WARNINGS
    ]
    assert failing == [], "\n".join(failing)
    assert result.returncode == 0, result.stderr


def documented_operations(document):
    """Every "METHOD /path" the document describes."""
    return {
        f"{method.upper()} {path}"
        for path, item in document["paths"].items()
        for method in item
        if method in {"get", "put", "post", "delete", "patch", "head", "options", "trace"}
    }


def served_operations(app):
    """Every "METHOD /path" of the API the app serves, paths written as OpenAPI templates."""
    operations = set()
    for rule in app.url_map.iter_rules():
        is_api = rule.rule.startswith("/api/") or rule.rule in {"/healthz", "/readyz"}
        if not is_api or rule.endpoint in DOCS_ENDPOINTS:
            continue
        path = re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule.rule)
        operations |= {f"{method} {path}" for method in rule.methods - {"HEAD", "OPTIONS"}}
    return operations


def test_every_api_route_is_documented_with_its_methods(app, document):
    served, documented = served_operations(app), documented_operations(document)
    assert sorted(served - documented) == [], "served but not documented"
    assert sorted(documented - served) == [], "documented but not served"


def test_the_route_map_leaves_the_clinic_pages_and_docs_assets_out(app):
    served = served_operations(app)
    assert {"POST /api/v1/me/checkins", "GET /readyz", "GET /api/openapi.json"} <= served
    assert not any(" /clinic" in op or "/api/docs/assets" in op for op in served)
