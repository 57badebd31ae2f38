"""Assessments: the patient's follow-up to-do list, and each patient's schedule for staff."""
from flask.views import MethodView
from server.api.blueprint import Blueprint

from schemas.schedules import AssessmentArgs, AssessmentSchema, StaffAssessmentSchema
from server.api.guards import current_principal, patient_only, staff_only
from server.services import access, schedules

blp = Blueprint("assessments", __name__, url_prefix="/api/v1", description="Follow-up assessments")


@blp.route("/me/assessments")
class MyAssessments(MethodView):
    @patient_only
    @blp.arguments(AssessmentArgs(), location="query")
    @blp.response(200, AssessmentSchema(many=True))
    @blp.doc(operationId="listMyAssessments")
    def get(self, args):
        """Your assessments in window order; ?status=open is what to answer now."""
        return schedules.assessments_of(current_principal().patient.id, args.get("status"))


@blp.route("/patients/<id:patient_id>/assessments")
class PatientAssessments(MethodView):
    @staff_only
    @blp.arguments(AssessmentArgs(), location="query")
    @blp.response(200, StaffAssessmentSchema(many=True))
    @blp.doc(operationId="listPatientAssessments")
    def get(self, args, patient_id):
        """A patient's assessments, with missed and completed ones."""
        access.patient_for(current_principal(), patient_id, "assessment.list")
        return schedules.assessments_of(patient_id, args.get("status"))
