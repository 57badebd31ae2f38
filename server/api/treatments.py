"""Treatments, recorded by staff; each anchors follow-up and trends."""
from flask.views import MethodView
from server.api.blueprint import Blueprint

from schemas.treatments import TreatmentCreateSchema, TreatmentSchema, TreatmentUpdateSchema
from server.api.guards import current_principal, staff_only
from server.services import access, treatments

blp = Blueprint("treatments", __name__, url_prefix="/api/v1", description="Treatments")


@blp.route("/patients/<id:patient_id>/treatments")
class PatientTreatments(MethodView):
    @staff_only
    @blp.response(200, TreatmentSchema(many=True))
    @blp.doc(operationId="listTreatments")
    def get(self, patient_id):
        """A patient's treatments in date order."""
        patient = access.patient_for(current_principal(), patient_id, "treatment.list")
        return patient.treatments

    @staff_only
    @blp.arguments(TreatmentCreateSchema())
    @blp.response(201, TreatmentSchema)
    @blp.doc(operationId="createTreatment")
    def post(self, data, patient_id):
        """Record a treatment.

        `details.cell_source` is only for kind `cell_therapy`, else 422 names it.
        """
        principal = current_principal()
        patient = access.patient_for(principal, patient_id, "treatment.create")
        return treatments.create_treatment(principal, patient, data)


@blp.route("/treatments/<id:treatment_id>")
class TreatmentById(MethodView):
    @staff_only
    @blp.response(200, TreatmentSchema)
    @blp.doc(operationId="getTreatment")
    def get(self, treatment_id):
        """One treatment."""
        treatment = treatments.treatment_for(current_principal(), treatment_id, "treatment.read")
        return treatment

    @staff_only
    @blp.arguments(TreatmentUpdateSchema())
    @blp.response(200, TreatmentSchema)
    @blp.doc(operationId="updateTreatment")
    def patch(self, data, treatment_id):
        """Change a treatment; follow-up not yet completed moves with its date.

        `details.cell_source` is only for kind `cell_therapy`, else 422 names it.
        """
        treatment = treatments.treatment_for(current_principal(), treatment_id, "treatment.update")
        return treatments.update_treatment(treatment, data)
