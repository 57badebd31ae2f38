"""Every response the suite receives, checked against the served OpenAPI document."""
import json

from flask.testing import FlaskClient
from openapi_core import Config, OpenAPI
from openapi_core.contrib.werkzeug import WerkzeugOpenAPIRequest, WerkzeugOpenAPIResponse
from openapi_core.templating.paths.exceptions import OperationNotFound, PathNotFound

# Paths outside the API: the clinician pages and their assets.
NOT_API = ("/clinic", "/static/", "/api/docs/assets/")
# Media types openapi-core does not parse itself: FHIR's JSON, and NDJSON as the text it is.
MEDIA_TYPES = {
    "application/fhir+json": json.loads,
    "application/fhir+ndjson": lambda body: body.decode("utf-8"),
    "text/csv": lambda body: body.decode("utf-8"),
}


class _RequestLine(WerkzeugOpenAPIRequest):
    """The request as far as response validation needs it: its body was already read."""

    @property
    def body(self):
        return None


def served_document(app):
    """The document the app serves at /api/openapi.json."""
    return FlaskClient(app).get("/api/openapi.json").get_json()


def _openapi(app):
    if "contract_openapi" not in app.extensions:
        config = Config(extra_media_type_deserializers=MEDIA_TYPES)
        app.extensions["contract_openapi"] = OpenAPI.from_dict(served_document(app), config=config)
    return app.extensions["contract_openapi"]


def check_response(app, response):
    """Raise unless the response is one the document allows for its request: a documented
    status, every required field, no undocumented field, the documented media type."""
    request = response.request
    if request.path.startswith(NOT_API):
        return
    openapi = _openapi(app)
    try:
        openapi.validate_response(_RequestLine(request), WerkzeugOpenAPIResponse(response))
    except (PathNotFound, OperationNotFound):
        # Routing refused it before any view: no operation to hold it to.
        if response.status_code not in (404, 405):
            raise


class ContractClient(FlaskClient):
    """A test client that fails the test on any response the document does not describe."""

    def open(self, *args, **kwargs):
        response = super().open(*args, **kwargs)
        # A test that streams the body itself (buffered=False) measures the stream: reading it
        # here would buffer it.
        if kwargs.get("buffered") is not False:
            check_response(self.application, response)
        return response
