"""The worklist: the patients you may see, with what needs attention first."""
from flask.views import MethodView
from server.api.blueprint import Blueprint

from schemas.worklist import WorklistArgs, WorklistPageSchema
from server.api.guards import current_principal, staff_only
from server.services import worklist

blp = Blueprint("worklist", __name__, url_prefix="/api/v1/worklist", description="Worklist")


@blp.route("")
class Worklist(MethodView):
    @staff_only
    @blp.arguments(WorklistArgs(), location="query")
    @blp.response(200, WorklistPageSchema)
    @blp.doc(operationId="listWorklist")
    def get(self, args):
        """Your patients with flags, latest NRS and ODI, latest treatment and next due follow-up."""
        return worklist.worklist(current_principal(), args)
