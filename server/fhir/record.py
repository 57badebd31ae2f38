"""A patient's record as FHIR R4 resources: Patient, Procedure, QuestionnaireResponse,
Observation and AdverseEvent, each a plain dict ready for JSON.

The rows come from services/fhir.py as anything with the columns as attributes (ORM rows or
Row tuples); see Records for which. Pseudonymous by default: the Patient carries the external
id, birth year and sex, and a name only when the organization turned names on.
"""
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from server.clinical.instruments import INSTRUMENTS, Instrument
from server.fhir.questionnaire import answer
from server.fhir.vocabulary import (
    ADVERSE_EVENT_SERIOUSNESS,
    ADVERSE_EVENT_SEVERITIES,
    ADVERSE_EVENT_SEVERITY,
    CELL_SOURCE_DISPLAYS,
    LOINC,
    OBSERVATION_CATEGORY,
    RECORD_TYPES,
    SCORE_CODINGS,
    TREATMENT_DISPLAYS,
    UCUM,
    UNIT_NAMES,
    ExportContext,
    adverse_event_id,
    observation_id,
    patient_id,
    procedure_id,
    questionnaire_url,
    reference,
    response_id,
)

SURVEY = {"coding": [{"system": OBSERVATION_CATEGORY, "code": "survey", "display": "Survey"}]}


@dataclass
class Records:
    """The rows of some patients, each list in export order.

    patients: id, external_id, display_name, birth_year, sex
    treatments: id, patient_id, kind, performed_on, cell_source, target_levels, notes
    checkins: id, patient_id, instrument, instrument_version, answers, completed_at,
        received_at, score, subscores, band, voided_at
    adverse_events: id, patient_id, treatment_id, onset_on, description, severity, received_at
    """

    patients: list = field(default_factory=list)
    treatments: list = field(default_factory=list)
    checkins: list = field(default_factory=list)
    adverse_events: list = field(default_factory=list)


def _patient_reference(row_patient_id):
    return reference("Patient", patient_id(row_patient_id))


def _coded(system, code, display=None):
    coding = {"system": system, "code": code}
    if display:
        coding["display"] = display
    return {"coding": [coding], "text": display or code}


def patient(context: ExportContext, row):
    """The Patient: the organization's pseudonym, birth year and sex; a name only if allowed."""
    resource = {
        "resourceType": "Patient",
        "id": patient_id(row.id),
        "identifier": [{"system": context.pseudonym_system, "value": row.external_id}],
    }
    if context.include_names and row.display_name:
        resource["name"] = [{"text": row.display_name}]
    if row.sex:
        resource["gender"] = row.sex
    if row.birth_year:
        resource["birthDate"] = f"{row.birth_year:04d}"
    return resource


def procedure(context: ExportContext, row):
    """A treatment as a completed Procedure; cell source and spinal levels coded."""
    kind_system = context.code_system("treatment-kind")
    level_system = context.code_system("spinal-level")
    resource = {
        "resourceType": "Procedure",
        "id": procedure_id(row.id),
        "status": "completed",
        "code": _coded(kind_system, row.kind, TREATMENT_DISPLAYS.get(row.kind)),
        "subject": _patient_reference(row.patient_id),
        "performedDateTime": row.performed_on.isoformat(),
    }
    extensions = []
    if row.cell_source:
        source = {"system": context.code_system("cell-source"), "code": row.cell_source}
        if row.cell_source in CELL_SOURCE_DISPLAYS:
            source["display"] = CELL_SOURCE_DISPLAYS[row.cell_source]
        extensions.append({"url": context.extension("cell-source"), "valueCoding": source})
    levels = list(row.target_levels or ())
    extensions += [
        {
            "url": context.extension("target-level"),
            "valueCoding": {"system": level_system, "code": level},
        }
        for level in levels
    ]
    if extensions:
        resource["extension"] = extensions
    if levels:
        resource["bodySite"] = [_coded(level_system, level) for level in levels]
    # Free text may name people: it leaves only with the names.
    if context.include_names and row.notes:
        resource["note"] = [{"text": row.notes}]
    return resource


def _status(row, done):
    return "entered-in-error" if row.voided_at is not None else done


def questionnaire_response(context: ExportContext, row):
    """A check-in as a QuestionnaireResponse of its instrument's version, answers in item order."""
    instrument = INSTRUMENTS[row.instrument]
    items = []
    for item in instrument.items:
        value = row.answers.get(item.key)
        if value is not None:
            items.append(
                {
                    "linkId": item.key,
                    "text": item.title,
                    "answer": [answer(context.base, instrument, item, value)],
                }
            )
    subject = _patient_reference(row.patient_id)
    resource = {
        "resourceType": "QuestionnaireResponse",
        "id": response_id(row.patient_id, row.id),
        "questionnaire": (
            f"{questionnaire_url(context.base, instrument.code)}|{row.instrument_version}"
        ),
        "status": _status(row, "completed"),
        "subject": subject,
        "authored": row.completed_at.isoformat(),
        "source": subject,
    }
    if items:
        resource["item"] = items
    return resource


def _score_code(context, instrument: Instrument, score_name):
    """LOINC where clinical.md gives a code (the primary score), the project's own code always."""
    display = SCORE_CODINGS[(instrument.code, score_name)].display
    codings = []
    if score_name == instrument.score_name and instrument.loinc:
        codings.append({"system": LOINC, "code": instrument.loinc})
    codings.append(
        {
            "system": context.code_system("score"),
            "code": f"{instrument.code}.{score_name}",
            "display": display,
        }
    )
    return {"coding": codings, "text": display}


def _observation(context, row, instrument, score_name, value):
    unit = SCORE_CODINGS[(instrument.code, score_name)].unit
    subject = _patient_reference(row.patient_id)
    return {
        "resourceType": "Observation",
        "id": observation_id(row.patient_id, row.id, score_name),
        "status": _status(row, "final"),
        "category": [SURVEY],
        "code": _score_code(context, instrument, score_name),
        "subject": subject,
        "effectiveDateTime": row.completed_at.isoformat(),
        "issued": row.received_at.isoformat(),
        "performer": [subject],
        "valueQuantity": {"value": value, "unit": UNIT_NAMES[unit], "system": UCUM, "code": unit},
        "derivedFrom": [reference("QuestionnaireResponse", response_id(row.patient_id, row.id))],
    }


def observations(context: ExportContext, row) -> Iterator[dict]:
    """One Observation per score and subscore of a check-in; none when it was not scorable."""
    instrument = INSTRUMENTS[row.instrument]
    if row.score is not None:
        primary = _observation(context, row, instrument, instrument.score_name, row.score)
        if row.band:
            band_system = context.code_system(f"{instrument.code}-band")
            primary["interpretation"] = [_coded(band_system, row.band)]
        yield primary
    subscores = row.subscores or {}
    for name in instrument.subscore_names:
        if subscores.get(name) is not None:
            yield _observation(context, row, instrument, name, subscores[name])


def adverse_event(context: ExportContext, row):
    """A reported adverse event; life-threatening is R4 severity severe and serious."""
    severity, seriousness = ADVERSE_EVENT_SEVERITIES[row.severity]
    subject = _patient_reference(row.patient_id)
    resource = {
        "resourceType": "AdverseEvent",
        "id": adverse_event_id(row.patient_id, row.id),
        "actuality": "actual",
        "event": {"text": row.description},
        "subject": subject,
        "date": row.onset_on.isoformat(),
        "recordedDate": row.received_at.isoformat(),
        "recorder": subject,
        "severity": _coded(ADVERSE_EVENT_SEVERITY, severity, severity.capitalize()),
    }
    if seriousness:
        resource["seriousness"] = _coded(
            ADVERSE_EVENT_SERIOUSNESS, seriousness, seriousness.capitalize()
        )
    if row.treatment_id is not None:
        resource["suspectEntity"] = [
            {"instance": reference("Procedure", procedure_id(row.treatment_id))}
        ]
    return resource


def resources_of(
    context: ExportContext, records: Records, types: Iterable[str] = RECORD_TYPES
) -> Iterator[dict]:
    """The records' resources of the wanted types, type by type: a resource's references
    point only at resources written before it."""
    wanted = set(types)
    if "Patient" in wanted:
        for row in records.patients:
            yield patient(context, row)
    if "Procedure" in wanted:
        for row in records.treatments:
            yield procedure(context, row)
    if "QuestionnaireResponse" in wanted:
        for row in records.checkins:
            yield questionnaire_response(context, row)
    if "Observation" in wanted:
        for row in records.checkins:
            yield from observations(context, row)
    if "AdverseEvent" in wanted:
        for row in records.adverse_events:
            yield adverse_event(context, row)


def collection(context: ExportContext, resources, bundle_id, timestamp):
    """A Bundle of type collection holding the resources, each under its fullUrl."""
    return {
        "resourceType": "Bundle",
        "id": bundle_id,
        "type": "collection",
        "timestamp": timestamp.isoformat(),
        "entry": [
            {"fullUrl": context.full_url(resource), "resource": resource} for resource in resources
        ],
    }
