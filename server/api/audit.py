"""The organization's audit trail, for its admins."""
from flask.views import MethodView
from server.api.blueprint import Blueprint

from schemas.audit import AuditEventPageSchema, AuditQueryArgs
from server.api.guards import admin_only, current_principal
from server.services import audit

blp = Blueprint("audit", __name__, url_prefix="/api/v1/audit-events", description="Audit trail")


@blp.route("")
class AuditEvents(MethodView):
    @admin_only
    @blp.arguments(AuditQueryArgs(), location="query")
    @blp.response(200, AuditEventPageSchema)
    @blp.doc(operationId="listAuditEvents")
    def get(self, args):
        """Audit events of your organization, newest first."""
        return audit.list_events(current_principal(), args)
