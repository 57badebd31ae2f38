"""What the server says about its FHIR side: the CapabilityStatement, and errors as
OperationOutcome resources."""
from server.clinical.instruments import INSTRUMENTS
from server.fhir.vocabulary import FHIR_JSON, FHIR_NDJSON, FHIR_VERSION, questionnaire_url

RESOURCE_DOCUMENTATION = {
    "Patient": "Pseudonymous: the organization's external id, birth year and sex; a name only "
    "when the organization turns names on.",
    "Procedure": "One per treatment; cell source and spinal levels as extensions, levels also "
    "as bodySite.",
    "QuestionnaireResponse": "One per check-in, answers with their ordinal values; a voided "
    "check-in is entered-in-error.",
    "Observation": "One per score and subscore (category survey, LOINC where one exists), "
    "derived from its QuestionnaireResponse.",
    "AdverseEvent": "One per reported adverse event, suspectEntity the treatment's Procedure.",
}

# An HTTP status as the OperationOutcome issue type (R4 value set issue-type).
ISSUE_TYPES = {
    400: "invalid",
    401: "login",
    403: "forbidden",
    404: "not-found",
    405: "not-supported",
    406: "not-supported",
    409: "conflict",
    410: "deleted",
    413: "too-long",
    415: "not-supported",
    422: "invalid",
    429: "throttled",
    503: "transient",
}


def capability_statement(base, date):
    """The CapabilityStatement of this instance: the resources exported and where."""
    questionnaires = ", ".join(questionnaire_url(base, code) for code in INSTRUMENTS)
    resources = [
        {"type": name, "documentation": text} for name, text in RESOURCE_DOCUMENTATION.items()
    ]
    resources.append(
        {
            "type": "Questionnaire",
            "documentation": "GET /api/v1/instruments/{code}/fhir, one per instrument: "
            + questionnaires,
        }
    )
    return {
        "resourceType": "CapabilityStatement",
        "status": "active",
        "date": date.isoformat(),
        "publisher": "Backtrack",
        "kind": "instance",
        "software": {"name": "Backtrack"},
        "implementation": {
            "description": "Backtrack: patient-reported outcomes after back-pain treatment, "
            "exported as FHIR R4 (read only)",
            "url": base,
        },
        "fhirVersion": FHIR_VERSION,
        "format": [FHIR_JSON, FHIR_NDJSON],
        "rest": [
            {
                "mode": "server",
                "documentation": "Exports, not a FHIR REST API: a patient's Bundle (type "
                "collection) at GET /api/v1/patients/{id}/fhir for staff, the organization's "
                "resources as NDJSON at GET /api/v1/exports/fhir?_type=... for admins.",
                "security": {
                    "description": "A bearer token from POST /api/v1/auth/login; every read "
                    "of patient data is audited."
                },
                "resource": resources,
            }
        ],
    }


def _flatten(errors, path=()):
    """(path, message) for each message of a nested {field: [messages] or {...}} mapping."""
    if isinstance(errors, dict):
        for key, value in errors.items():
            yield from _flatten(value, (*path, str(key)))
    elif isinstance(errors, list | tuple):
        for value in errors:
            yield from _flatten(value, path)
    else:
        yield ".".join(path), str(errors)


def operation_outcome(status, message, errors=None):
    """An error as an OperationOutcome: the message, then one issue per field error."""
    code = ISSUE_TYPES.get(status, "exception" if status >= 500 else "processing")
    issues = [{"severity": "error", "code": code, "diagnostics": message}]
    for path, text in _flatten(errors or {}):
        issues.append(
            {"severity": "error", "code": code, "diagnostics": f"{path}: {text}" if path else text}
        )
    return {"resourceType": "OperationOutcome", "issue": issues}
