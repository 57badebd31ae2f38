"""The admin manages the clinicians of their organization."""
from flask.views import MethodView
from server.api.blueprint import Blueprint

from schemas.staff import StaffCreateSchema, StaffSchema
from server.api.guards import admin_only, current_principal
from server.services import staff

blp = Blueprint("clinicians", __name__, url_prefix="/api/v1/clinicians", description="Staff")


@blp.route("")
class Clinicians(MethodView):
    @admin_only
    @blp.response(200, StaffSchema(many=True))
    @blp.doc(operationId="listStaff")
    def get(self):
        """The staff of your organization."""
        return staff.list_staff(current_principal())

    @admin_only
    @blp.arguments(StaffCreateSchema())
    @blp.response(201, StaffSchema)
    @blp.doc(operationId="createStaff")
    def post(self, data):
        """Add a clinician (or another admin) to your organization."""
        user = staff.create_user(
            current_principal().user.organization,
            data["email"],
            data["password"],
            data["role"],
            data["name"],
        )
        return user
