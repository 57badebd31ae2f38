"""Trends: each patient's change after each treatment, for staff and for the patient."""
from flask.views import MethodView
from server.api.blueprint import Blueprint

from schemas.trends import MyTrendsSchema, PatientTrendsSchema
from server.api.guards import current_principal, patient_only, staff_only
from server.services import access, references, trends

blp = Blueprint("trends", __name__, url_prefix="/api/v1", description="Trends")


@blp.route("/patients/<id:patient_id>/trends")
class PatientTrends(MethodView):
    @staff_only
    @blp.response(200, PatientTrendsSchema)
    @blp.doc(operationId="getPatientTrends")
    def get(self, patient_id):
        """A patient's change on each measure after each treatment."""
        principal = current_principal()
        patient = access.patient_for(principal, patient_id, "trends.read")
        return references.add_references(principal, patient, trends.trends_of(patient))


@blp.route("/me/trends")
class MyTrends(MethodView):
    @patient_only
    @blp.response(200, MyTrendsSchema)
    @blp.doc(operationId="getMyTrends")
    def get(self):
        """Your change on each measure after each treatment, with plain words."""
        return trends.trends_of(current_principal().patient)
