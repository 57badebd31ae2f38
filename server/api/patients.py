"""Patients as staff manage them: profile, care team, enrollment and devices."""
from flask.views import MethodView
from server.api.blueprint import Blueprint

from schemas.auth import EnrollmentCodeSchema, RevokedDevicesSchema
from schemas.patients import (
    PatientCreateSchema,
    PatientListArgs,
    PatientPageSchema,
    PatientSchema,
    PatientUpdateSchema,
)
from server.api.guards import current_principal, staff_only
from server.services import access, enrollment, patients

blp = Blueprint("patients", __name__, url_prefix="/api/v1/patients", description="Patients")


@blp.route("")
class Patients(MethodView):
    @staff_only
    @blp.arguments(PatientListArgs(), location="query")
    @blp.response(200, PatientPageSchema)
    @blp.doc(operationId="listPatients")
    def get(self, args):
        """List the patients you may see, optionally searching external id and name."""
        return patients.list_patients(
            current_principal(), args["page"], args["per_page"], args.get("q"), args.get("flag")
        )

    @staff_only
    @blp.arguments(PatientCreateSchema())
    @blp.response(201, PatientSchema)
    @blp.doc(operationId="createPatient")
    def post(self, data):
        """Create a patient in your organization.

        `care_team` lists clinicians of your organization, else 422 names it.
        """
        return patients.create_patient(current_principal(), data)


@blp.route("/<id:patient_id>")
class PatientById(MethodView):
    @staff_only
    @blp.response(200, PatientSchema)
    @blp.doc(operationId="getPatient")
    def get(self, patient_id):
        """One patient's profile."""
        patient = access.patient_for(current_principal(), patient_id, "patient.read")
        return patient

    @staff_only
    @blp.arguments(PatientUpdateSchema(partial=True))
    @blp.response(200, PatientSchema)
    @blp.doc(operationId="updatePatient")
    def patch(self, data, patient_id):
        """Change a patient's profile, preferences or care team.

        `care_team` lists clinicians of your organization, else 422 names it.
        """
        principal = current_principal()
        patient = access.patient_for(principal, patient_id, "patient.update")
        return patients.update_patient(principal, patient, data)


@blp.route("/<id:patient_id>/enrollment-code")
class EnrollmentCode(MethodView):
    @staff_only
    @blp.response(201, EnrollmentCodeSchema)
    @blp.doc(operationId="createEnrollmentCode")
    def post(self, patient_id):
        """Create a one-time code the patient types into the app (earlier codes stop working)."""
        principal = current_principal()
        patient = access.patient_for(principal, patient_id, "enrollment.code_create")
        code, expires_at = enrollment.create_code(principal, patient)
        return {"code": code, "expires_at": expires_at}


@blp.route("/<id:patient_id>/devices")
class Devices(MethodView):
    @staff_only
    @blp.response(200, RevokedDevicesSchema)
    @blp.doc(operationId="revokeDevices")
    def delete(self, patient_id):
        """Revoke every device token of the patient."""
        principal = current_principal()
        patient = access.patient_for(principal, patient_id, "devices.revoke")
        return {"revoked": enrollment.revoke_devices(patient)}
