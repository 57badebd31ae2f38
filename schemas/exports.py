"""Query arguments of the exports."""
import marshmallow as ma
from marshmallow import fields


class OutcomesExportArgs(ma.Schema):
    """Pseudonymous rows, or identified ones for an admin who asks."""

    identified = fields.Boolean(
        load_default=False,
        truthy={"true"},
        falsy={"false"},
        metadata={
            "description": "true (admins only, audited as export.identified) adds patient_id, "
            "external_id, display_name and treatment_id"
        },
    )
