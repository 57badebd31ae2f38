"""A patient's own profile and preferences, for the mobile app."""
from flask.views import MethodView
from server.api.blueprint import Blueprint

from schemas.patients import MeSchema, PreferencesSchema
from server.api.guards import current_principal, patient_only
from server.services import patients

blp = Blueprint("me", __name__, url_prefix="/api/v1/me", description="The signed-in patient")


@blp.route("")
class Me(MethodView):
    @patient_only
    @blp.response(200, MeSchema)
    @blp.doc(operationId="getMe")
    def get(self):
        """Your profile and reminder preferences."""
        return current_principal().patient

    @patient_only
    @blp.arguments(PreferencesSchema(partial=True))
    @blp.response(200, MeSchema)
    @blp.doc(operationId="updateMyPreferences")
    def patch(self, data):
        """Change your time zone, reminder time, quiet hours or contact."""
        return patients.update_preferences(current_principal(), data)
