"""Domain errors and the one JSON error shape every error status uses."""
import json
import logging

from flask import current_app, request
from flask_smorest import Api
from sqlalchemy.exc import (
    DBAPIError,
    IntegrityError,
    InterfaceError,
    OperationalError,
)
from sqlalchemy.exc import TimeoutError as PoolTimeout
from werkzeug.exceptions import (
    BadRequest,
    HTTPException,
    InternalServerError,
    UnsupportedMediaType,
)
from werkzeug.http import HTTP_STATUS_CODES

from schemas.common import ErrorSchema

log = logging.getLogger(__name__)


class DomainError(Exception):
    """An error a service raises; mapped to an HTTP status by one handler.

    `audit` holds audit events to keep although the work fails, such as a denied read:
    whoever ends the unit of work writes them in a transaction of their own.
    """

    status = 400

    def __init__(self, message, errors=None, audit=()):
        super().__init__(message)
        self.message = message
        self.errors = errors
        self.audit = list(audit)


class Unauthorized(DomainError):
    status = 401


class Forbidden(DomainError):
    status = 403


class NotFound(DomainError):
    status = 404

    def __init__(self, message="Not found.", errors=None, audit=()):
        super().__init__(message, errors, audit)


class Conflict(DomainError):
    status = 409


class Gone(DomainError):
    status = 410


class Invalid(DomainError):
    status = 422


# A client told to come back waits this long; PostgreSQL restarts in a few seconds.
RETRY_AFTER_SECONDS = 5
UNAVAILABLE_MESSAGE = "The database is unavailable or cannot store data now. Try again shortly."
# SQLSTATEs of a database that refuses writes for now: read-only transaction, disk full,
# out of memory, too many connections, shutting down or starting up.
UNAVAILABLE_SQLSTATES = {"25006", "53100", "53200", "53300", "57P01", "57P02", "57P03"}


def database_unavailable(error):
    """True when a database error means "not now" (down, restarting, full, read-only),
    not a bug: such a request may be retried as it is."""
    if isinstance(error, PoolTimeout | OperationalError | InterfaceError):
        return True
    if isinstance(error, DBAPIError):
        return error.connection_invalidated or (
            getattr(error.orig, "sqlstate", None) in UNAVAILABLE_SQLSTATES
        )
    return False


def unavailable_response():
    """503 with Retry-After: the request stored nothing and may be sent again unchanged."""
    return respond(503, UNAVAILABLE_MESSAGE, headers={"Retry-After": str(RETRY_AFTER_SECONDS)})


# The WSGI environ key under which require_json_body keeps the body it parsed, for the
# arguments parser to take (the request's own, never the app context's g: tests share one).
PARSED_BODY = "backtrack.json_body"
VALIDATION_MESSAGES = {
    400: "The request body is not valid JSON.",
    422: "The request has invalid fields.",
}


def error_payload(status, message, errors=None):
    """The body of every error response."""
    body = {"code": status, "status": HTTP_STATUS_CODES.get(status, "Error"), "message": message}
    if errors:
        body["errors"] = errors
    return body


def respond(status, message, errors=None, headers=None):
    """An error response: the page of a path prefix that registered an error page, the shape
    of an endpoint that speaks a standard (see register_error_shape), else JSON."""
    headers = dict(headers or {})
    for prefix, render_page in current_app.extensions["error_pages"].items():
        if request.path.startswith(prefix):
            return render_page(status, message), status, headers
    if status == 401:
        headers["WWW-Authenticate"] = 'Bearer realm="backtrack"'
    for applies, render in current_app.extensions.get("error_shapes", ()):
        if applies(request):
            return render(status, message, errors, headers)
    return error_payload(status, message, errors), status, headers


def register_error_shape(app, applies, render):
    """Answer the errors of requests for which applies(request) holds with
    render(status, message, errors, headers), a response, instead of the one JSON shape:
    endpoints that speak a standard (FHIR's OperationOutcome) answer errors in its shape."""
    app.extensions.setdefault("error_shapes", []).append((applies, render))


class BacktrackApi(Api):
    """flask-smorest's Api answering every HTTP error in the one shape; each operation lists
    its error statuses itself (server/api/contract.py), so there is no catch-all `default`."""

    DEFAULT_ERROR_RESPONSE_NAME = None
    ERROR_SCHEMA = ErrorSchema

    def handle_http_exception(self, error):
        """Turn any HTTPException, validation errors included, into the error shape."""
        data = getattr(error, "data", None) or {}
        errors = data.get("errors") or data.get("messages")
        message = data.get("message") or (
            VALIDATION_MESSAGES.get(error.code) if errors else error.description
        )
        headers = dict(data.get("headers") or {})
        if hasattr(error, "get_headers"):
            for name, value in error.get_headers():
                if name.lower() not in ("content-type",):
                    headers.setdefault(name, value)
        return respond(error.code, message, errors, headers)


def handle_domain_error(error):
    """Map a service's domain error to its status and the error shape."""
    return respond(error.status, error.message, error.errors)


def handle_integrity_error(error):
    """A unique or foreign-key violation that a service did not foresee."""
    log.warning("integrity error on %s %s: %s", request.method, request.path, error.orig)
    return respond(409, "The request conflicts with existing data.")


def handle_unexpected(error):
    """Log and answer 500 in the error shape, never leaking internals."""
    if isinstance(error, HTTPException):
        return current_app.extensions["backtrack_api"].handle_http_exception(error)
    if database_unavailable(error):
        log.warning("database unavailable on %s %s: %s", request.method, request.path, error)
        return unavailable_response()
    log.exception("unhandled error on %s %s", request.method, request.path)
    return respond(500, InternalServerError.description)


def require_json_body():
    """Refuse an API request body that is not JSON before any view reads it."""
    if not request.path.startswith("/api/"):
        return
    if request.method in ("POST", "PUT", "PATCH") and (
        request.content_length or request.headers.get("Transfer-Encoding")
    ):
        if not request.is_json:
            raise UnsupportedMediaType("The request body must be JSON (application/json).")
        _refuse_json_the_parser_cannot_survive()


def _refuse_json_the_parser_cannot_survive():
    """400 for JSON that breaks json.loads with other than a syntax error; keeps the body parsed.

    Deep nesting raises RecursionError and integers past Python's digit limit raise a plain
    ValueError; neither is caught where flask-smorest parses the body. Syntax errors are left
    to flask-smorest, which answers them 400 itself. The body is decoded as UTF-8 first, as
    webargs decodes it, so that what it takes from PARSED_BODY is what it would have parsed.
    """
    try:
        body = json.loads(request.get_data(cache=True).decode())
    except (json.JSONDecodeError, UnicodeDecodeError):
        return
    except (RecursionError, ValueError) as exc:
        raise BadRequest(
            "The request body is not valid JSON: nested too deeply or a number too long."
        ) from exc
    request.environ[PARSED_BODY] = body


def register_error_handlers(app, api, abandon_work):
    """Wire the handlers; smorest's Api already handles HTTPException.

    Each handler first calls abandon_work(kept_audit_events), which rolls the request's work back.
    """

    def abandoning(handler, kept=lambda error: ()):
        def handle(error):
            abandon_work(kept(error))
            return handler(error)

        return handle

    app.extensions["backtrack_api"] = api
    app.extensions["error_pages"] = {}
    app.register_error_handler(
        DomainError, abandoning(handle_domain_error, kept=lambda error: error.audit)
    )
    app.register_error_handler(IntegrityError, abandoning(handle_integrity_error))
    app.register_error_handler(Exception, abandoning(handle_unexpected))
    app.before_request(require_json_body)
