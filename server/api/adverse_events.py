"""Adverse events: reported by the patient, reviewed by staff."""
from flask.views import MethodView
from server.api.blueprint import Blueprint

from schemas.adverse_events import AdverseEventSchema, AdverseEventSubmitSchema
from server.api.guards import current_principal, patient_only, staff_only
from server.services import access, adverse_events

blp = Blueprint("adverse_events", __name__, url_prefix="/api/v1", description="Adverse events")



@blp.route("/me/adverse-events")
class MyAdverseEvents(MethodView):
    @patient_only
    @blp.arguments(AdverseEventSubmitSchema())
    @blp.response(201, AdverseEventSchema)
    @blp.alt_response(200, schema=AdverseEventSchema, description="Already stored: the same body.")
    @blp.doc(operationId="reportAdverseEvent")
    def post(self, data):
        """Report an adverse event; resending the same id and content answers 200.

        A `treatment_id` must be one of your treatments, else 422 names it.
        """
        event, created = adverse_events.report(current_principal(), data)
        return event, 201 if created else 200


@blp.route("/patients/<id:patient_id>/adverse-events")
class PatientAdverseEvents(MethodView):
    @staff_only
    @blp.response(200, AdverseEventSchema(many=True))
    @blp.doc(operationId="listPatientAdverseEvents")
    def get(self, patient_id):
        """A patient's adverse events, newest onset first."""
        access.patient_for(current_principal(), patient_id, "adverse_event.list")
        return adverse_events.events_of(patient_id)
