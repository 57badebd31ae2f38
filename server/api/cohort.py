"""Cohort outcomes: the spread of responses over the patients you may see."""
from flask.views import MethodView
from flask_smorest import Blueprint

from schemas.trends import CohortArgs, CohortOutcomesSchema
from server.services import cohort
from server.api.guards import current_principal, staff_only

blp = Blueprint("cohort", __name__, url_prefix="/api/v1/cohort", description="Cohort outcomes")


@blp.route("/outcomes")
class CohortOutcomes(MethodView):
    @staff_only
    @blp.arguments(CohortArgs(), location="query")
    @blp.response(200, CohortOutcomesSchema)
    def get(self, args):
        """Change from baseline of one measure at one time point, per patient and treatment."""
        return cohort.outcomes(current_principal(), args)
