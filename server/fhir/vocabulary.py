"""The code systems, extensions, units and resource ids of the FHIR export.

HL7's and LOINC's systems are constants. The project's own code systems, extensions and
canonical URLs live under one base URL (the FHIR_BASE_URL setting), carried by ExportContext.
"""
from dataclasses import dataclass

FHIR_VERSION = "4.0.1"
FHIR_JSON = "application/fhir+json"
FHIR_NDJSON = "application/fhir+ndjson"

LOINC = "http://loinc.org"
UCUM = "http://unitsofmeasure.org"
OBSERVATION_CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"
ADVERSE_EVENT_SEVERITY = "http://terminology.hl7.org/CodeSystem/adverse-event-severity"
ADVERSE_EVENT_SERIOUSNESS = "http://terminology.hl7.org/CodeSystem/adverse-event-seriousness"
# R4 core extensions: the ordinal value of a coded answer, the bounds of a numeric item.
ORDINAL_VALUE = "http://hl7.org/fhir/StructureDefinition/ordinalValue"
MIN_VALUE = "http://hl7.org/fhir/StructureDefinition/minValue"
MAX_VALUE = "http://hl7.org/fhir/StructureDefinition/maxValue"

# The resource types a patient's record exports, in the order they are written.
RECORD_TYPES = ("Patient", "Procedure", "QuestionnaireResponse", "Observation", "AdverseEvent")


@dataclass(frozen=True)
class ScoreCoding:
    """How one score or subscore is coded: its UCUM unit and a human-readable name."""

    unit: str
    display: str


UNIT_NAMES = {"{score}": "score", "%": "%", "mm": "mm"}

# Every score and subscore of server/clinical/instruments.py. Scales without a physical unit
# take the UCUM annotation {score}; the VAS is a 100 mm line (clinical.md).
SCORE_CODINGS = {
    ("nrs_pain", "back_pain"): ScoreCoding("{score}", "Back pain, numeric rating 0-10"),
    ("nrs_pain", "leg"): ScoreCoding("{score}", "Leg pain, numeric rating 0-10"),
    ("vas_pain", "pain"): ScoreCoding("mm", "Pain, visual analogue scale 0-100 mm"),
    ("odi", "odi_percent"): ScoreCoding("%", "Oswestry Disability Index, percent"),
    ("rmdq", "rmdq_score"): ScoreCoding("{score}", "Roland-Morris Disability Questionnaire, 0-24"),
    ("psfs", "psfs_mean"): ScoreCoding("{score}", "Patient-Specific Functional Scale, mean 0-10"),
    ("pgic", "change"): ScoreCoding("{score}", "Patient Global Impression of Change, 1-7"),
}

TREATMENT_DISPLAYS = {
    "cell_therapy": "Cell-based injection",
    "prp": "Platelet-rich plasma injection",
    "epidural_steroid": "Epidural steroid injection",
    "medication": "Medication",
    "physical_therapy": "Physical therapy",
    "surgery": "Surgery",
    "other": "Other treatment",
}

CELL_SOURCE_DISPLAYS = {
    "bone_marrow": "Autologous bone marrow concentrate",
    "adipose": "Adipose-derived cells",
    "umbilical": "Umbilical cord-derived cells",
    "allogeneic_other": "Allogeneic or other source",
}

# R4 severity knows mild, moderate and severe only: life-threatening is severe and serious.
ADVERSE_EVENT_SEVERITIES = {
    "mild": ("mild", None),
    "moderate": ("moderate", None),
    "severe": ("severe", None),
    "life_threatening": ("severe", "serious"),
}


@dataclass(frozen=True)
class ExportContext:
    """Where the project's own URLs live, and what the organization lets the export show."""

    base: str
    pseudonym_system: str
    include_names: bool = False

    def code_system(self, name):
        """The URL of one of the project's own code systems."""
        return f"{self.base}/CodeSystem/{name}"

    def extension(self, name):
        """The URL of one of the project's own extensions."""
        return f"{self.base}/StructureDefinition/{name}"

    def full_url(self, resource):
        """The entry fullUrl of a resource: relative references resolve against it."""
        return f"{self.base}/{resource['resourceType']}/{resource['id']}"


def default_pseudonym_system(base, organization_id):
    """The identifier system of an organization's external ids when it names none of its own."""
    return f"{base}/organizations/{organization_id}/patients"


def fhir_id(text):
    """A FHIR id ([A-Za-z0-9-.]{1,64}) made from a code: underscores become hyphens."""
    return text.replace("_", "-")


# Resource ids: unique across the server and stable from one export to the next. Check-in and
# adverse-event UUIDs are the app's and unique per patient only, so the patient's id leads.
def patient_id(patient):
    """The id of a patient's Patient resource."""
    return str(patient)


def questionnaire_id(code):
    """The id of an instrument's Questionnaire."""
    return fhir_id(code)


def response_id(patient, checkin):
    """The id of a check-in's QuestionnaireResponse."""
    return f"{patient}-{checkin}"


def observation_id(patient, checkin, score_name):
    """The id of one score's Observation."""
    return f"{patient}-{checkin}-{fhir_id(score_name)}"


def procedure_id(treatment):
    """The id of a treatment's Procedure."""
    return str(treatment)


def adverse_event_id(patient, event):
    """The id of an adverse event's AdverseEvent."""
    return f"{patient}-{event}"


def reference(resource_type, resource_id):
    """A relative reference, resolved inside the bundle against the entries' fullUrls."""
    return {"reference": f"{resource_type}/{resource_id}"}


def questionnaire_url(base, code):
    """The canonical URL of an instrument's Questionnaire, without its version."""
    return f"{base}/Questionnaire/{questionnaire_id(code)}"
