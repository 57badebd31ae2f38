"""The outcomes export: one CSV row per patient, treatment, measure and time point.

Pseudonymous by default; identified rows only for an admin who asks for them.
"""
import csv
import hashlib
import hmac
import io

from sqlalchemy import func, select

from server.clinical.protocols import in_time_order
from server.clinical.trends import compare, find_measure
from server.config import setting
from server.errors import Forbidden
from server.extensions import db
from server.models import Patient, Treatment, Trend
from server.services import audit, trends
from server.services.access import visible_patients

# Of the patient, only a pseudonym; of the treatment, its place among the patient's treatments.
COLUMNS = (
    "pseudonym",
    "condition",
    "treatment_number",
    "treatment_kind",
    "cell_source",
    "performed_on",
    "instrument",
    "score_name",
    "timepoint",
    "days_from_treatment",
    "value",
    "baseline",
    "change",
    "pct_change",
    "status",
    "reliable_change",
)
# What an identified export adds in front: the ids and the name that lead back to the patient.
IDENTIFIED_COLUMNS = ("patient_id", "external_id", "display_name", "treatment_id", *COLUMNS)
# 64 bits of HMAC: among 100,000 patients, two share a pseudonym with odds below 1 in 10^9.
PSEUDONYM_HEX_DIGITS = 16
# Patients whose rows are read and written per query while streaming.
PATIENTS_PER_QUERY = 500
# A spreadsheet would run a cell starting with these as a formula.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def _safe_text(value):
    """Text a spreadsheet shows as text, never runs as a formula."""
    return "'" + value if value and value.startswith(FORMULA_PREFIXES) else value


def pseudonym(secret_key, organization_id, patient_id):
    """A patient's export pseudonym: stable, per organization, not reversible without the key."""
    # Each organization's key is derived from the server's secret and the organization's id:
    # the same patient id has unrelated pseudonyms in two organizations.
    key = hmac.new(
        secret_key.encode(), f"backtrack-export-pseudonym:{organization_id}".encode(), hashlib.sha256
    ).digest()
    digest = hmac.new(key, str(patient_id).encode(), hashlib.sha256).hexdigest()
    return digest[:PSEUDONYM_HEX_DIGITS]


def start_export(principal, identified=False):
    """Refresh and audit the caller's patients; returns their ids, in export order.

    Each exported patient gets its own audit event, so the patient's trail shows the export;
    identified rows are for admins only and audited as their own action.
    """
    action = "export.identified" if identified else "export.outcomes"
    if identified and principal.role != "admin":
        raise Forbidden(
            "Only an admin may export identified rows.",
            audit=[audit.event(principal, action, outcome="denied")],
        )
    visible = visible_patients(principal)
    trends.refresh_stale_among(visible)
    patient_ids = db.session.scalars(
        visible.with_only_columns(Patient.id)
        .where(Patient.id.in_(select(Trend.patient_id)))
        .order_by(Patient.id)
    ).all()
    audit.record_many(principal, action, patient_ids)
    return patient_ids


def _csv_line(values):
    buffer = io.StringIO()
    csv.writer(buffer).writerow(values)
    return buffer.getvalue()


def _rows_of(found, identified):
    """The CSV rows of one trend: each protocol time point, then the latest value."""
    identity = (
        (
            found.patient_id,
            _safe_text(found.external_id),
            _safe_text(found.display_name),
            found.treatment_id,
        )
        if identified
        else ()
    )
    alias = pseudonym(setting("SECRET_KEY"), found.organization_id, found.patient_id)
    measure = find_measure(found.instrument, found.score_name)
    points = in_time_order(found.timepoints)
    latest = [found.latest_value, found.latest_days] if found.latest_value is not None else None
    points.append(("latest", latest))
    for label, point in points:
        value, days = point or (None, None)
        compared = (
            compare(measure, found.baseline_value, value)
            if value is not None and found.baseline_value is not None
            else {}
        )
        yield (
            *identity,
            alias,
            found.condition,
            found.treatment_number,
            found.kind,
            found.cell_source,
            found.performed_on.isoformat(),
            found.instrument,
            found.score_name,
            label,
            days,
            value,
            found.baseline_value,
            compared.get("change"),
            compared.get("pct_change"),
            compared.get("status"),
            compared.get("reliable_change"),
        )


def csv_lines(app, patient_ids, identified=False):
    """The export as CSV text: the header, then one query per batch of patients.

    Each batch is read in an app context of its own, left before the text is yielded, so a
    response read halfway, or never, leaves no context or session behind.
    """
    yield _csv_line(IDENTIFIED_COLUMNS if identified else COLUMNS)
    for start in range(0, len(patient_ids), PATIENTS_PER_QUERY):
        with app.app_context():
            text = _csv_batch(patient_ids[start : start + PATIENTS_PER_QUERY], identified)
        yield text


def _csv_batch(patient_ids, identified):
    """The CSV rows of these patients' trends."""
    numbered = (
        select(
            Treatment.id,
            func.row_number()
            .over(partition_by=Treatment.patient_id, order_by=(Treatment.performed_on, Treatment.id))
            .label("number"),
        )
        .where(Treatment.patient_id.in_(patient_ids))
        .subquery()
    )
    query = (
        select(
            Trend.patient_id,
            Patient.organization_id,
            Patient.external_id,
            Patient.display_name,
            Patient.condition,
            Trend.treatment_id,
            numbered.c.number.label("treatment_number"),
            Treatment.kind,
            Treatment.cell_source,
            Treatment.performed_on,
            Trend.instrument,
            Trend.score_name,
            Trend.baseline_value,
            Trend.latest_value,
            Trend.latest_days,
            Trend.timepoints,
        )
        .join(Patient, Patient.id == Trend.patient_id)
        .join(Treatment, Treatment.id == Trend.treatment_id)
        .join(numbered, numbered.c.id == Trend.treatment_id)
        .where(Trend.patient_id.in_(patient_ids))
        .order_by(Trend.patient_id, Treatment.performed_on, Trend.treatment_id, Trend.id)
    )
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    for found in db.session.execute(query):
        writer.writerows(_rows_of(found, identified))
    return buffer.getvalue()
