"""The OpenAPI document and Swagger UI (its assets served locally, so the docs need no CDN)."""
import swagger_ui_bundle
from flask import Blueprint, send_from_directory

from server.api.guards import limit_public_calls

bp = Blueprint("docs_assets", __name__)
# flask-smorest's own blueprint serving these two, named as it names it (one per app, so the
# limit is attached by name, once).
limit_public_calls(Blueprint("api-docs", __name__))

# flask-smorest serves these two itself; the document lists them like every other route.
DOCS_OPERATIONS = {
    "/api/openapi.json": {
        "operationId": "getOpenApiDocument",
        "summary": "This OpenAPI document.",
        "media_type": "application/json",
        "schema": {"type": "object"},
    },
    "/api/docs": {
        "operationId": "getApiDocs",
        "summary": "Interactive documentation of this API (Swagger UI).",
        "media_type": "text/html",
        "schema": {"type": "string"},
    },
}


def document(app, spec):
    """Add the document's own routes to the spec."""
    spec.tag({"name": "docs", "description": "This document"})
    rules = {rule.rule: rule for rule in app.url_map.iter_rules()}
    for path, operation in DOCS_OPERATIONS.items():
        content = {operation["media_type"]: {"schema": operation["schema"]}}
        spec.path(
            rule=rules[path],
            operations={
                "get": {
                    "operationId": operation["operationId"],
                    "summary": operation["summary"],
                    "tags": ["docs"],
                    "security": [],
                    "x-roles": ["anyone"],
                    "x-database": False,
                    "x-errors": {"429": True},
                    "responses": {"200": {"description": "OK", "content": content}},
                }
            },
        )


@bp.get("/api/docs/assets/<path:filename>")
def asset(filename):
    """One Swagger UI file."""
    return send_from_directory(swagger_ui_bundle.swagger_ui_path, filename, max_age=86400)
