"""The patient against the cohort: comparable patients' values at each protocol time point."""
from collections import defaultdict

from sqlalchemy import select

from server.clinical.outcomes import (
    MIN_REFERENCE_PATIENTS,
    percentile_rank,
    reference_percentiles,
)
from server.extensions import db
from server.models import Treatment, Trend
from server.services import trends
from server.services.access import visible_patients
from server.services.cohort import visible_ids


def _reference_values(principal, patient, kinds, measures, labels):
    """{(kind, instrument, score, label): ([values], [changes], {patient ids})} in one query.

    Comparable patients are those the caller may see, other than the patient, treated with the
    same kind, read from their stored trends (the database reads the time points' values).
    """
    values = defaultdict(lambda: ([], [], set()))
    at_labels = [Trend.timepoints[(label, 0)].as_float() for label in labels]
    rows = db.session.execute(
        select(
            Trend.patient_id,
            Treatment.kind,
            Trend.instrument,
            Trend.score_name,
            Trend.baseline_value,
            *at_labels,
        )
        .join(Treatment, Treatment.id == Trend.treatment_id)
        .where(
            Trend.patient_id.in_(visible_ids(principal)),
            Trend.patient_id != patient.id,
            Treatment.kind.in_(sorted(kinds)),
            Trend.instrument.in_(sorted({instrument for instrument, _ in measures})),
        )
    )
    for patient_id, kind, instrument, score_name, baseline, *at_points in rows:
        if (instrument, score_name) not in measures:
            continue
        for label, value in zip(labels, at_points):
            if value is None:
                continue
            found, changes, patients = values[(kind, instrument, score_name, label)]
            found.append(value)
            patients.add(patient_id)
            if baseline is not None and label != "baseline":
                changes.append(value - baseline)
    return values


def _reference(found, changes, patients, value, change):
    """The reference at one time point and the patient's percentile in it; None if too few."""
    if len(patients) < MIN_REFERENCE_PATIENTS:
        return None
    found, changes = sorted(found), sorted(changes)
    enough_changes = len(changes) >= MIN_REFERENCE_PATIENTS
    return {
        "patients": len(patients),
        "value": reference_percentiles(found),
        "change": reference_percentiles(changes) if enough_changes else None,
        "percentile": {
            "value": percentile_rank(value, found) if value is not None else None,
            "change": (
                percentile_rank(change, changes)
                if change is not None and enough_changes
                else None
            ),
        },
    }


def add_references(principal, patient, view):
    """Give each measure of a trends view its reference per time point, in place; returns it."""
    kinds = {treatment["kind"] for treatment in view["treatments"]}
    measures = {
        (measure["instrument"], measure["score_name"])
        for treatment in view["treatments"]
        for measure in treatment["measures"]
    }
    labels = sorted(
        {
            label
            for treatment in view["treatments"]
            for measure in treatment["measures"]
            for label in measure["timepoints"]
        }
    )
    values = {}
    if measures:
        trends.refresh_stale_among(visible_patients(principal))
        values = _reference_values(principal, patient, kinds, measures, labels)
    for treatment in view["treatments"]:
        for measure in treatment["measures"]:
            baseline = measure["baseline"]["value"] if measure["baseline"] else None
            measure["reference"] = {}
            for label, value in measure["timepoints"].items():
                key = (treatment["kind"], measure["instrument"], measure["score_name"], label)
                if key not in values:
                    measure["reference"][label] = None
                    continue
                change = value - baseline if value is not None and baseline is not None else None
                if label == "baseline":
                    change = None
                measure["reference"][label] = _reference(*values[key], value, change)
    return view
