"""Check-ins: posted by the app exactly once, read by staff."""
from apispec.ext.marshmallow import MarshmallowPlugin
from flask.views import MethodView
from server.api.blueprint import Blueprint
from marshmallow import ValidationError

from schemas import answers
from schemas.checkins import (
    CheckInBatchResultSchema,
    CheckInBatchSchema,
    CheckInChangesSchema,
    CheckInPageSchema,
    CheckInSchema,
    CheckInSinceArgs,
    CheckInSubmitSchema,
    StaffCheckInArgs,
    VoidSchema,
)
from server.api.guards import current_principal, limit_checkins, patient_only, staff_only
from server.services import access, checkins

blp = Blueprint("checkins", __name__, url_prefix="/api/v1", description="Check-ins")

SUBMIT = CheckInSubmitSchema()
SUBMIT_BODY = {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/CheckInSubmit"}}}}


def document(spec):
    """Document the check-in body as one schema per instrument, chosen by `instrument`."""
    converter = next(p for p in spec.plugins if isinstance(p, MarshmallowPlugin)).converter
    common = converter.schema2jsonschema(CheckInSubmitSchema)
    spec.components.schema("CheckInSubmit", answers.document(spec, common))


@blp.route("/me/checkins")
class MyCheckIns(MethodView):
    @limit_checkins
    @patient_only
    @blp.arguments(CheckInSubmitSchema())
    @blp.response(201, CheckInSchema)
    @blp.alt_response(200, schema=CheckInSchema, description="Already stored: the same body.")
    @blp.doc(operationId="submitCheckIn", requestBody=SUBMIT_BODY)
    def post(self, data):
        """Submit a check-in; resending the same id and content answers 200 with the stored one.

        `completed_at` may be at most 5 minutes ahead of the server's clock, else 422 names it.
        """
        checkin, created = checkins.submit_one(current_principal(), data)
        return checkin, 201 if created else 200

    @patient_only
    @blp.arguments(CheckInSinceArgs(), location="query")
    @blp.response(200, CheckInChangesSchema)
    @blp.doc(operationId="pullMyCheckIns")
    def get(self, args):
        """Check-ins stored or voided after the cursor, in the order the server stored them."""
        return checkins.changes_since(current_principal().patient, args["since"], args["limit"])


def _load(raw):
    try:
        return SUBMIT.load(raw)
    except ValidationError as exc:
        raw_id = raw.get("id") if isinstance(raw, dict) else None
        return checkins.Receipt(raw_id, "invalid", errors={"json": exc.messages})


@blp.route("/me/checkins/batch")
class MyCheckInBatch(MethodView):
    @limit_checkins
    @patient_only
    @blp.arguments(CheckInBatchSchema())
    @blp.response(200, CheckInBatchResultSchema)
    @blp.doc(operationId="submitCheckInBatch")
    def post(self, data):
        """Submit up to 500 check-ins; each gets its own result, in order.

        Each is checked as `submitCheckIn` checks one; an invalid one gets the status invalid.
        """
        items = [_load(raw) for raw in data["checkins"]]
        receipts = checkins.submit_batch(current_principal(), items)
        return {
            "results": [
                {"id": str(r.id) if r.id is not None else None, "status": r.status}
                | ({"errors": r.errors} if r.errors else {})
                for r in receipts
            ]
        }


@blp.route("/me/checkins/<uuid:checkin_id>/void")
class VoidCheckIn(MethodView):
    @patient_only
    @blp.arguments(VoidSchema())
    @blp.response(200, CheckInSchema)
    @blp.doc(operationId="voidCheckIn")
    def post(self, data, checkin_id):
        """Mark a check-in entered in error: it stays stored but leaves views and trends."""
        return checkins.void(current_principal(), checkin_id, data["reason"])


@blp.route("/patients/<id:patient_id>/checkins")
class PatientCheckIns(MethodView):
    @staff_only
    @blp.arguments(StaffCheckInArgs(), location="query")
    @blp.response(200, CheckInPageSchema)
    @blp.doc(operationId="listPatientCheckIns")
    def get(self, args, patient_id):
        """A patient's check-ins by completion time."""
        patient = access.patient_for(current_principal(), patient_id, "checkin.list")
        page = checkins.list_for_staff(patient, args)
        return page
