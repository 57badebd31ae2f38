"""What the OpenAPI document says beyond the schemas: who may call, and every error status.

Decorators record an operation's roles and its own error statuses in the document
(`x-roles`, `x-errors`); `ContractPlugin` completes each operation from them and from its shape
(a body, query arguments, path parameters): every status it can answer, each with the one error
body, and a sentence saying who may call it.
"""
from copy import deepcopy
from http import HTTPStatus

from apispec import BasePlugin
from apispec.ext.marshmallow import MarshmallowPlugin
from flask_smorest import Blueprint

from schemas.common import VALID_TIMEZONES

# Who may call, in the order the document lists them.
ROLE_NAMES = {
    "anyone": "anyone, without signing in",
    "patient": "a patient's enrolled device",
    "clinician": "a clinician",
    "admin": "an admin",
}
ERROR_DESCRIPTIONS = {
    400: "The body is not valid JSON.",
    401: "No valid bearer token.",
    403: "The caller's role cannot use this operation.",
    404: "Not found, or outside the caller's reach.",
    409: "The request conflicts with stored data.",
    410: "Gone: used, expired or withdrawn.",
    413: "The body is larger than 1 MiB.",
    415: "The body is not application/json.",
    422: "The request has invalid fields; `errors` names them.",
    429: "Too many requests; retry after the seconds in Retry-After.",
    500: "An internal error; nothing was stored.",
    503: "The database is unavailable; nothing was stored. Retry after Retry-After.",
}
RETRY_AFTER = {
    "Retry-After": {
        "description": "Seconds to wait before retrying.",
        "schema": {"type": "integer", "minimum": 0},
    }
}
JSON_ERROR = {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}


def documented(view, **doc):
    """Add doc to the view's OpenAPI operation (dicts merge with what is there)."""
    return Blueprint.doc(**doc)(view)


def roles(*names):
    """Document who may call the view: `x-roles` and, for anyone, no security requirement."""

    def decorator(view):
        doc = {"x-roles": list(names)}
        if names == ("anyone",):
            doc["security"] = []
        return documented(view, **doc)

    return decorator


def answers(*statuses):
    """Document error statuses the view answers beyond those its shape implies."""
    return lambda view: documented(view, **{"x-errors": {str(status): True for status in statuses}})


public = roles("anyone")


def without_database(view):
    """Document that the view never touches the database, so it cannot answer 503."""
    return documented(view, **{"x-database": False})


def implied_errors(path, method, operation):
    """The error statuses an operation of this shape can answer, whatever its view does."""
    statuses = {500, 503} if operation.pop("x-database", True) else {500}
    if method != "get":
        statuses.add(409)  # the unit of work answers a commit that breaks a constraint with 409
    if "requestBody" in operation:
        statuses |= {400, 413, 415, 422}
    if any(p.get("in") == "query" for p in operation.get("parameters", [])):
        statuses.add(422)
    if "{" in path:
        statuses.add(404)
    return statuses


def field_as_component(converter, field, ret, **kwargs):
    """A field naming a component (`openapi_component`) is documented as a reference to it."""
    name = getattr(field, "openapi_component", None)
    if name is None:
        return {}
    ret.clear()
    return {"$ref": f"#/components/schemas/{name}"}


class ContractPlugin(BasePlugin):
    """Completes every operation: its error responses and who may call it."""

    def init_spec(self, spec):
        self.spec = spec
        spec.components.schema("TimeZone", {"type": "string", "enum": sorted(VALID_TIMEZONES)})
        for plugin in spec.plugins:
            if isinstance(plugin, MarshmallowPlugin):
                plugin.converter.add_attribute_function(field_as_component)

    def schema_helper(self, name, definition, **kwargs):
        """Keywords a marshmallow schema states about itself (`openapi_keywords`)."""
        return dict(getattr(kwargs.get("schema"), "openapi_keywords", {}))

    def _error_ref(self, status, shape):
        """A reference to the shared response of this status and error shape."""
        schema_ref = next(iter(shape["content"].values()))["schema"]["$ref"]
        prefix = "" if schema_ref.endswith("/Error") else schema_ref.rsplit("/", 1)[-1]
        name = prefix + HTTPStatus(status).phrase.title().replace(" ", "").replace("-", "")
        if name not in self.spec.components.responses:
            response = {"description": ERROR_DESCRIPTIONS[status], **deepcopy(shape)}
            if status in (429, 503):
                response["headers"] = RETRY_AFTER
            self.spec.components.response(name, response)
        return {"$ref": f"#/components/responses/{name}"}

    def operation_helper(self, path=None, operations=None, **kwargs):
        for method, operation in operations.items():
            names = operation.get("x-roles")
            if not names:
                raise ValueError(f"{path}: an operation must say who may call it (x-roles)")
            responses = {str(status): r for status, r in operation.get("responses", {}).items()}
            shape = responses.pop("default", JSON_ERROR)
            statuses = implied_errors(path, method, operation) | {
                int(status) for status in operation.pop("x-errors", {})
            }
            statuses |= {int(status) for status in responses if int(status) >= 400}
            for status in sorted(statuses):
                if "content" not in (responses.get(str(status)) or {}):
                    responses[str(status)] = self._error_ref(status, shape)
            operation["responses"] = dict(sorted(responses.items()))  # str keys sort as numbers
            names = operation["x-roles"] = [name for name in ROLE_NAMES if name in names]
            who = ", ".join(ROLE_NAMES[name] for name in names)
            operation["description"] = " ".join(
                part for part in (operation.get("description"), f"Who may call: {who}.") if part
            )
