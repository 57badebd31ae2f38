"""The FHIR endpoints' query arguments, and their resources as the OpenAPI document shows them.

The resources are built by server/fhir/ and sent as they are; these schemas only document
their top level. The full definitions are FHIR R4's.
"""
import marshmallow as ma
from marshmallow import fields, validate
from webargs.fields import DelimitedList

from server.fhir.vocabulary import FHIR_NDJSON, RECORD_TYPES

NDJSON_FORMATS = (FHIR_NDJSON, "application/ndjson", "ndjson")
ANY_JSON = ["object", "array", "string", "number", "boolean", "null"]


def _element():
    """A FHIR element (an object) as FHIR R4 defines it; its values are any JSON."""
    return fields.Dict(keys=fields.String(), values=fields.Raw(metadata={"type": ANY_JSON}))


def _resource_type(name):
    return fields.String(required=True, validate=validate.Equal(name), metadata={"example": name})


class BulkExportArgs(ma.Schema):
    """Which resource types to export; `type` and `_type` (as in FHIR Bulk Data) add up."""

    class Meta:
        # An unsupported Bulk Data parameter (_since, _typeFilter) is refused, never ignored.
        unknown = ma.RAISE

    type_ = DelimitedList(
        fields.String(validate=validate.OneOf(RECORD_TYPES)),
        data_key="type",
        metadata={"description": "Comma-separated resource types; all when left out."},
    )
    underscore_type = DelimitedList(
        fields.String(validate=validate.OneOf(RECORD_TYPES)),
        data_key="_type",
        metadata={"description": "The same as type, as FHIR Bulk Data spells it."},
    )
    output_format = fields.String(
        data_key="_outputFormat",
        validate=validate.OneOf(NDJSON_FORMATS),
        metadata={"description": "NDJSON is the only format."},
    )


class FhirResourceSchema(ma.Schema):
    """Any FHIR R4 resource: its type and id, and the other elements FHIR defines for its type."""

    class Meta:
        unknown = ma.INCLUDE

    resourceType = fields.String(required=True)
    id = fields.String()


class OperationOutcomeIssueSchema(ma.Schema):
    """One issue: severity, issue type and the message."""

    severity = fields.String(metadata={"example": "error"})
    code = fields.String(metadata={"example": "not-found"})
    diagnostics = fields.String()


class OperationOutcomeSchema(ma.Schema):
    """An error as FHIR R4 OperationOutcome."""

    resourceType = _resource_type("OperationOutcome")
    issue = fields.List(fields.Nested(OperationOutcomeIssueSchema))


class QuestionnaireSchema(ma.Schema):
    """An instrument as FHIR R4 Questionnaire: items keyed by linkId, no licensed text."""

    resourceType = _resource_type("Questionnaire")
    id = fields.String()
    url = fields.String(metadata={"description": "Canonical URL, under FHIR_BASE_URL."})
    version = fields.String()
    name = fields.String()
    title = fields.String()
    status = fields.String()
    subjectType = fields.List(fields.String())
    code = fields.List(_element())
    copyright = fields.String()
    item = fields.List(_element())


class BundleEntrySchema(ma.Schema):
    """One resource of the bundle under its fullUrl."""

    fullUrl = fields.String()
    resource = fields.Nested(FhirResourceSchema)


class BundleSchema(ma.Schema):
    """A patient's record as FHIR R4 Bundle of type collection."""

    resourceType = _resource_type("Bundle")
    id = fields.String()
    type = fields.String(metadata={"example": "collection"})
    timestamp = fields.String()
    entry = fields.List(fields.Nested(BundleEntrySchema))


class CapabilityStatementSchema(ma.Schema):
    """What the server exports, as FHIR R4 CapabilityStatement."""

    resourceType = _resource_type("CapabilityStatement")
    status = fields.String()
    date = fields.String()
    publisher = fields.String()
    kind = fields.String()
    software = _element()
    implementation = _element()
    fhirVersion = fields.String()
    format = fields.List(fields.String())
    rest = fields.List(_element())
