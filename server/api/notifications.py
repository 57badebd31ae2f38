"""The reminders sent, or to be sent, to a patient, for staff."""
from flask.views import MethodView
from server.api.blueprint import Blueprint

from schemas.schedules import NotificationSchema
from server.api.guards import current_principal, staff_only
from server.services import access, notifications

blp = Blueprint("notifications", __name__, url_prefix="/api/v1", description="Reminders")


@blp.route("/patients/<id:patient_id>/notifications")
class PatientNotifications(MethodView):
    @staff_only
    @blp.response(200, NotificationSchema(many=True))
    @blp.doc(operationId="listPatientNotifications")
    def get(self, patient_id):
        """Every reminder of a patient with its state history, in planned order."""
        access.patient_for(current_principal(), patient_id, "notification.list")
        return notifications.notifications_of(patient_id)
