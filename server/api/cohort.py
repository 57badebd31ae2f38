"""Cohort outcomes: the spread of responses over the patients you may see."""
from flask.views import MethodView
from server.api.blueprint import Blueprint

from schemas.trends import (
    CohortArgs,
    CohortOutcomesSchema,
    GroupedCohortOutcomesSchema,
    TimeToEventArgs,
    TimeToEventSchema,
)
from server.api.guards import current_principal, staff_only
from server.services import cohort, survival

# The two shapes exclude each other: each requires fields the other does not allow.
OUTCOME_SHAPES = {
    "application/json": {"schema": {"oneOf": [CohortOutcomesSchema, GroupedCohortOutcomesSchema]}}
}

blp = Blueprint("cohort", __name__, url_prefix="/api/v1/cohort", description="Cohort outcomes")


@blp.route("/outcomes")
class CohortOutcomes(MethodView):
    @staff_only
    @blp.arguments(CohortArgs(), location="query")
    @blp.response(200, description="Without group_by the summary over all; with it, per group.")
    @blp.doc(operationId="getCohortOutcomes", responses={200: {"content": OUTCOME_SHAPES}})
    def get(self, args):
        """Change from baseline of one measure at one time point, per patient and treatment.

        `score_name` must be a score of `instrument` (see the instruments), else 422 names it.
        """
        shape = GroupedCohortOutcomesSchema if args.get("group_by") else CohortOutcomesSchema
        return shape().dump(cohort.outcomes(current_principal(), args))


@blp.route("/surgery-free")
class SurgeryFree(MethodView):
    @staff_only
    @blp.arguments(TimeToEventArgs(), location="query")
    @blp.response(200, TimeToEventSchema)
    @blp.doc(operationId="getSurgeryFreeSurvival")
    def get(self, args):
        """Surgery-free survival after each non-surgical treatment kind, or time to a serious
        adverse event after each kind: Kaplan–Meier with 95% intervals and numbers at risk."""
        return survival.time_to_event(current_principal(), args)
