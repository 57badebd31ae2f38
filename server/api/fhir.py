"""FHIR R4: instruments as Questionnaires, a patient's record as a Bundle, the organization's
resources as NDJSON, and the CapabilityStatement.

Bodies are application/fhir+json (application/fhir+ndjson for the bulk export), and every
error under these endpoints is an OperationOutcome with the status the JSON shape would have.
"""
import re

from flask import Response, current_app
from flask.views import MethodView

from schemas.fhir import (
    BulkExportArgs,
    BundleSchema,
    CapabilityStatementSchema,
    OperationOutcomeSchema,
    QuestionnaireSchema,
)
from server.api.blueprint import Blueprint
from server.api.contract import public
from server.api.guards import (
    admin_only,
    current_principal,
    limit_public,
    signed_in,
    staff_only,
)
from server.errors import register_error_shape
from server.fhir.capability import operation_outcome
from server.fhir.vocabulary import FHIR_JSON, FHIR_NDJSON, RECORD_TYPES
from server.services import fhir

# The FHIR paths, for requests that matched no route (a wrong method, an id out of range).
FHIR_PATHS = re.compile(r"^/api/v1/(fhir/.*|[^/]+/[^/]+/fhir/?|exports/fhir/?)$")
OUTCOME_DOC = {
    "description": "An error as an OperationOutcome, with the status the error has elsewhere.",
    "content": {FHIR_JSON: {"schema": OperationOutcomeSchema}},
}


def _document_errors_as_outcomes(doc, doc_info, **kwargs):
    """The default error response of these endpoints is an OperationOutcome."""
    if "responses" in doc:
        doc["responses"]["default"] = dict(OUTCOME_DOC)
    return doc


class FhirBlueprint(Blueprint):
    """A Blueprint whose OpenAPI operations document OperationOutcome errors."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._prepare_doc_cbks.append(_document_errors_as_outcomes)


blp = FhirBlueprint("fhir", __name__, url_prefix="/api/v1", description="FHIR R4 export")


def fhir_response(resource, status=200, mimetype=FHIR_JSON):
    """A resource as the body of a FHIR response."""
    return Response(current_app.json.dumps(resource), status=status, mimetype=mimetype)


def _speaks_fhir(request):
    if request.url_rule is not None:
        return request.blueprint == blp.name
    return FHIR_PATHS.match(request.path) is not None


def _outcome_response(status, message, errors, headers):
    response = fhir_response(operation_outcome(status, message, errors), status)
    response.headers.extend(headers)
    return response


@blp.record_once
def _answer_errors_as_outcomes(state):
    register_error_shape(state.app, _speaks_fhir, _outcome_response)


@blp.route("/fhir/metadata")
class Metadata(MethodView):
    @public
    @limit_public
    @blp.response(200, CapabilityStatementSchema, content_type=FHIR_JSON)
    @blp.doc(operationId="getFhirCapabilityStatement")
    def get(self):
        """The CapabilityStatement: what this server exports as FHIR R4 (no sign-in needed)."""
        return fhir_response(fhir.capability())


@blp.route("/instruments/<string(maxlength=32):code>/fhir")
class InstrumentQuestionnaire(MethodView):
    @signed_in
    @blp.response(200, QuestionnaireSchema, content_type=FHIR_JSON)
    @blp.doc(operationId="getInstrumentQuestionnaire")
    def get(self, code):
        """The instrument as a FHIR Questionnaire: item keys as linkIds, no licensed text."""
        return fhir_response(fhir.instrument_questionnaire(code))


@blp.route("/patients/<id:patient_id>/fhir")
class PatientBundle(MethodView):
    @staff_only
    @blp.response(200, BundleSchema, content_type=FHIR_JSON)
    @blp.doc(operationId="getPatientFhirBundle")
    def get(self, patient_id):
        """The patient's record as a FHIR Bundle (collection): Patient, Procedures,
        QuestionnaireResponses, Observations and AdverseEvents. Audited."""
        return fhir_response(fhir.patient_bundle(current_principal(), patient_id))


@blp.route("/exports/fhir")
class BulkExport(MethodView):
    @admin_only
    @blp.arguments(BulkExportArgs(), location="query", unknown="raise")
    @blp.response(
        200,
        {"type": "string", "format": "binary"},
        content_type=FHIR_NDJSON,
        description="One resource per line, each after the resources it references.",
    )
    @blp.doc(operationId="exportFhirBulk")
    def get(self, args):
        """The organization's resources as NDJSON, streamed in batches of patients. Audited."""
        wanted = {*args.get("type_", ()), *args.get("underscore_type", ())} or RECORD_TYPES
        export = fhir.start_bulk_export(current_principal(), wanted)
        return Response(
            fhir.ndjson_chunks(current_app._get_current_object(), export),
            mimetype=FHIR_NDJSON,
            headers={"Content-Disposition": 'attachment; filename="backtrack-fhir.ndjson"'},
        )
