"""Exports of pseudonymous outcome data for analysis."""
from flask import Response, current_app
from flask.views import MethodView
from server.api.blueprint import Blueprint

from server.api.guards import current_principal, staff_only
from server.services import exports

blp = Blueprint("exports", __name__, url_prefix="/api/v1/exports", description="Exports")


@blp.route("/outcomes.csv")
class OutcomesCsv(MethodView):
    @staff_only
    @blp.response(
        200,
        content_type="text/csv",
        description="One row per patient, treatment, measure and time point.",
    )
    @blp.doc(operationId="exportOutcomesCsv")
    def get(self):
        """The outcomes of the patients you may see, streamed as CSV (ids, no names)."""
        patient_ids = exports.start_export(current_principal())
        return Response(
            exports.csv_lines(current_app._get_current_object(), patient_ids),
            mimetype="text/csv",
            headers={"Content-Disposition": 'attachment; filename="outcomes.csv"'},
        )
