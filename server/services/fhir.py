"""The FHIR export over the database: an instrument's Questionnaire, a patient's Bundle, and
the organization's resources as NDJSON streamed in batches of patients.

The mapping itself is pure (server/fhir/); this module reads the rows, audits the reads and
holds the settings: the FHIR_BASE_URL and the organization's names and pseudonym choices.
"""
import uuid
from dataclasses import dataclass

import orjson
from sqlalchemy import select

from server.clinical.instruments import get_instrument
from server.clock import utcnow
from server.config import setting
from server.errors import Invalid, NotFound
from server.extensions import db
from server.fhir.capability import capability_statement
from server.fhir.questionnaire import questionnaire
from server.fhir.record import Records, collection, resources_of
from server.fhir.vocabulary import RECORD_TYPES, ExportContext, default_pseudonym_system
from server.models import AdverseEvent, CheckIn, Organization, Patient, Treatment
from server.services import access, audit
from server.services.access import visible_patients
from server.services.bulk import id_in

# Patients whose rows are read per batch while streaming: a demo-like patient has 10 to 60
# check-ins, so a batch holds a few thousand rows whatever the organization's size.
PATIENTS_PER_QUERY = 100
# NDJSON is handed to the server in pieces of about this size, not a line at a time.
CHUNK_BYTES = 256 * 1024
PSEUDONYM_SCHEMES = ("https://", "http://", "urn:")
# Audit events written per statement when a bulk export starts.
AUDIT_EVENTS_PER_INSERT = 1000

PATIENT_COLUMNS = (
    Patient.id,
    Patient.external_id,
    Patient.display_name,
    Patient.birth_year,
    Patient.sex,
)
TREATMENT_COLUMNS = (
    Treatment.id,
    Treatment.patient_id,
    Treatment.kind,
    Treatment.performed_on,
    Treatment.cell_source,
    Treatment.target_levels,
    Treatment.notes,
)
CHECKIN_COLUMNS = (
    CheckIn.id,
    CheckIn.patient_id,
    CheckIn.instrument,
    CheckIn.instrument_version,
    CheckIn.answers,
    CheckIn.completed_at,
    CheckIn.received_at,
    CheckIn.score,
    CheckIn.subscores,
    CheckIn.band,
    CheckIn.voided_at,
)
ADVERSE_EVENT_COLUMNS = (
    AdverseEvent.id,
    AdverseEvent.patient_id,
    AdverseEvent.treatment_id,
    AdverseEvent.onset_on,
    AdverseEvent.description,
    AdverseEvent.severity,
    AdverseEvent.received_at,
)


def capability():
    """The CapabilityStatement of this server."""
    return capability_statement(setting("FHIR_BASE_URL"), utcnow())


def instrument_questionnaire(code):
    """The instrument as a Questionnaire, else NotFound."""
    instrument = get_instrument(code)
    if instrument is None:
        raise NotFound("Instrument not found.")
    return questionnaire(setting("FHIR_BASE_URL"), instrument)


def export_context(organization):
    """The URLs and the disclosure choices of an organization's export."""
    base = setting("FHIR_BASE_URL")
    return ExportContext(
        base=base,
        pseudonym_system=organization.fhir_pseudonym_system
        or default_pseudonym_system(base, organization.id),
        include_names=organization.fhir_names,
    )


def configure_organization(organization, names=None, pseudonym_system=None):
    """Turn the export's names on or off, and set the pseudonym system ('' for the default);
    None leaves a choice as it is."""
    if names is not None:
        organization.fhir_names = names
    if pseudonym_system is not None:
        system = pseudonym_system.strip()
        well_formed = system.startswith(PSEUDONYM_SCHEMES) and len(system) <= 255
        if system and (not well_formed or any(char.isspace() for char in system)):
            raise Invalid("The pseudonym system must be an http(s):// or urn: URI.")
        organization.fhir_pseudonym_system = system or None
    db.session.flush()
    return organization


def read_records(patient_ids, types=RECORD_TYPES):
    """The rows of these patients that resources of the given types are made from."""
    wanted = set(types)
    records = Records()

    def rows(columns, patient_column, *order):
        query = select(*columns).where(id_in(patient_column, patient_ids)).order_by(*order)
        return db.session.execute(query).all()

    if "Patient" in wanted:
        records.patients = rows(PATIENT_COLUMNS, Patient.id, Patient.id)
    if "Procedure" in wanted:
        records.treatments = rows(
            TREATMENT_COLUMNS,
            Treatment.patient_id,
            Treatment.patient_id,
            Treatment.performed_on,
            Treatment.id,
        )
    if wanted & {"QuestionnaireResponse", "Observation"}:
        records.checkins = rows(
            CHECKIN_COLUMNS,
            CheckIn.patient_id,
            CheckIn.patient_id,
            CheckIn.completed_at,
            CheckIn.seq,
        )
    if "AdverseEvent" in wanted:
        records.adverse_events = rows(
            ADVERSE_EVENT_COLUMNS,
            AdverseEvent.patient_id,
            AdverseEvent.patient_id,
            AdverseEvent.onset_on,
            AdverseEvent.pk,
        )
    return records


def patient_bundle(principal, patient_id):
    """A patient's record as a Bundle of type collection (audited by the access check)."""
    patient = access.patient_for(principal, patient_id, "export.fhir_bundle")
    context = export_context(patient.organization)
    resources = resources_of(context, read_records([patient.id]))
    return collection(context, resources, str(uuid.uuid4()), utcnow())


@dataclass(frozen=True)
class BulkExport:
    """What a started bulk export streams: whose resources, of which types, shown how."""

    context: ExportContext
    types: tuple[str, ...]
    patient_ids: list[int]


def start_bulk_export(principal, types=RECORD_TYPES):
    """Audit and list the caller's patients for a bulk export of these resource types.

    Each exported patient gets its own audit event, so the patient's trail shows the export.
    """
    patient_ids = db.session.scalars(
        visible_patients(principal).with_only_columns(Patient.id).order_by(Patient.id)
    ).all()
    for start in range(0, len(patient_ids), AUDIT_EVENTS_PER_INSERT):
        chunk = patient_ids[start : start + AUDIT_EVENTS_PER_INSERT]
        audit.record_many(principal, "export.fhir_bulk", chunk)
    organization = db.session.get(Organization, principal.organization_id)
    wanted = tuple(name for name in RECORD_TYPES if name in set(types))
    return BulkExport(export_context(organization), wanted, patient_ids)


def ndjson_chunks(app, export):
    """The export as NDJSON bytes, one resource per line, read one batch of patients at a time.

    Each batch is read in an app context of its own, left before anything is yielded, so a
    response read halfway, or never, leaves no context or session behind.
    """
    ids = export.patient_ids
    for start in range(0, len(ids), PATIENTS_PER_QUERY):
        with app.app_context():
            records = read_records(ids[start : start + PATIENTS_PER_QUERY], export.types)
        yield from _chunks(resources_of(export.context, records, export.types))


def _chunks(resources):
    """NDJSON in pieces of about CHUNK_BYTES."""
    lines, size = [], 0
    for resource in resources:
        line = orjson.dumps(resource)
        lines.append(line)
        size += len(line) + 1
        if size >= CHUNK_BYTES:
            yield b"\n".join(lines) + b"\n"
            lines, size = [], 0
    if lines:
        yield b"\n".join(lines) + b"\n"
