"""Cohort outcomes over the patients a caller may see: the whole spread, not only a mean."""
from collections import defaultdict
from datetime import timedelta

from sqlalchemy import and_, func, literal, select
from sqlalchemy.orm import aliased

from server.clinical.anchors import agreement, anchor_says_improved, roc_mic
from server.clinical.outcomes import response_sd, s_diff, summarize, wilson_interval
from server.clinical.protocols import in_time_order
from server.clinical.scoring import odi_band
from server.clinical.trends import Reading, TreatmentFacts, compare, find_measure, follow_up_values
from server.clock import utcnow
from server.extensions import db
from server.models import CheckIn, Patient, Treatment, Trend
from server.services import audit, trend_store, trends
from server.services.access import visible_patients
from server.services.bulk import id_in

GROUP_COLUMNS = {
    "treatment_kind": Treatment.kind,
    "condition": Patient.condition,
    "cell_source": Treatment.cell_source,
}
SURGERY = "surgery"
SURGERY_HORIZON = timedelta(days=365)
# group_by=baseline_band: the ODI disability band at the treatment's baseline.
BASELINE_BAND_MEASURE = find_measure("odi")
ANCHOR_INSTRUMENT = "pgic"
# Trajectories drawn on one cohort chart at most, so the browser stays responsive.
MAX_TRAJECTORIES = 1000


def visible_ids(principal):
    """A select of the ids of the patients the principal may see."""
    return visible_patients(principal).with_only_columns(Patient.id)


def with_filters(query, args):
    """The query limited to the treatment kind and condition asked for."""
    if args.get("treatment_kind"):
        query = query.where(Treatment.kind == args["treatment_kind"])
    if args.get("condition"):
        query = query.where(Patient.condition == args["condition"])
    return query


def _value_at(trend, timepoint):
    """A trend's value at a time point label, or its latest value, as SQL."""
    return trend.latest_value if timepoint == "latest" else trend.timepoints[(timepoint, 0)].as_float()


def _group_column(group_by):
    """The SQL that groups rows; the ODI baseline for baseline_band, turned into its band later."""
    if group_by != "baseline_band":
        return GROUP_COLUMNS[group_by] if group_by else literal(None)
    odi = aliased(Trend)
    return (
        select(odi.baseline_value)
        .where(
            odi.patient_id == Trend.patient_id,
            odi.treatment_id == Trend.treatment_id,
            odi.instrument == BASELINE_BAND_MEASURE.instrument,
            odi.score_name == BASELINE_BAND_MEASURE.score_name,
        )
        .scalar_subquery()
    )


def _pairs(principal, measure, timepoint, args, group_by):
    """(group, row) per (patient, treatment) with a baseline and a value at the time point."""
    followup_column = _value_at(Trend, timepoint)
    group_column = _group_column(group_by)
    query = with_filters(
        select(
            Trend.patient_id,
            Trend.treatment_id,
            Trend.baseline_value,
            followup_column,
            group_column,
        )
        .join(Treatment, Treatment.id == Trend.treatment_id)
        .join(Patient, Patient.id == Trend.patient_id)
        .where(
            Trend.patient_id.in_(visible_ids(principal)),
            Trend.instrument == measure.instrument,
            Trend.score_name == measure.score_name,
            Trend.baseline_value.is_not(None),
            followup_column.is_not(None),
        ),
        args,
    )
    pairs = []
    with trend_store.collector_paused():
        for patient_id, treatment_id, baseline, followup, group in db.session.execute(query):
            if group_by == "baseline_band":
                group = odi_band(group) if group is not None else None
            compared = compare(measure, baseline, followup)
            row = {
                "patient_id": patient_id,
                "treatment_id": treatment_id,
                "baseline": baseline,
                "followup": followup,
                "change": compared["change"],
                "pct_change": compared["pct_change"],
                "status": compared["status"],
                "reliable_change": compared["reliable_change"],
            }
            pairs.append((group, row))
    return pairs


def _anchors(patient_ids, timepoint):
    """{(patient, treatment): PGIC at the time point} from the patients' PGIC check-ins."""
    readings = defaultdict(list)
    if patient_ids:
        for patient_id, completed_at, score in db.session.execute(
            select(CheckIn.patient_id, CheckIn.completed_at, CheckIn.score).where(
                id_in(CheckIn.patient_id, patient_ids),
                CheckIn.instrument == ANCHOR_INSTRUMENT,
                CheckIn.voided_at.is_(None),
                CheckIn.scorable,
            )
        ):
            readings[patient_id].append(Reading(ANCHOR_INSTRUMENT, completed_at, score, {}))
    if not readings:
        return {}
    answered = sorted(readings)
    zones = dict(
        db.session.execute(
            select(Patient.id, Patient.timezone).where(id_in(Patient.id, answered))
        ).all()
    )
    treatments = defaultdict(list)
    for patient_id, *facts in db.session.execute(
        select(
            Treatment.patient_id, Treatment.id, Treatment.kind, Treatment.performed_on, Treatment.protocol
        ).where(id_in(Treatment.patient_id, answered))
    ):
        treatments[patient_id].append(TreatmentFacts(*facts))
    found = {}
    for patient_id, own in readings.items():
        values = follow_up_values(own, treatments[patient_id], zones[patient_id])
        for treatment_id, at_points in values.items():
            found[(patient_id, treatment_id)] = at_points.get(timepoint)
    return found


def anchor_check(measure, timepoint, rows):
    """The MIC-based status against the patient's PGIC at the same time point, and the
    clinic's own MIC by the ROC method beside the literature's (clinical.md, anchors.py)."""
    anchors = _anchors(sorted({row["patient_id"] for row in rows}), timepoint)
    judged, improvements = [], []
    lower_is_better = measure.definition.direction == "lower"
    for row in rows:
        pgic = anchors.get((row["patient_id"], row["treatment_id"]))
        improved = anchor_says_improved(pgic) if pgic is not None else None
        if improved is None:
            continue
        judged.append((row["status"] == "improved", improved))
        improvements.append((-row["change"] if lower_is_better else row["change"], improved))
    return {
        **agreement(judged),
        "mic": roc_mic(improvements),
        "literature_mic": measure.definition.mic,
    }


def _waterfall_order(row):
    """Percent change ascending; a row without one (baseline 0) goes last."""
    pct = row["pct_change"]
    return (pct is None, pct if pct is not None else 0.0, row["patient_id"], row["treatment_id"])


def summary(measure, rows):
    """Counts, responder rate, the change's spread, noise and true-response SD, and the rows."""
    counts = {status: 0 for status in ("improved", "unchanged", "worsened")}
    for row in rows:
        if row["status"] in counts:
            counts[row["status"]] += 1
    rate, low, high = wilson_interval(counts["improved"], len(rows))
    change = summarize([row["change"] for row in rows])
    noise = s_diff(measure.definition.sem) if measure.definition.sem is not None else None
    return {
        "n": len(rows),
        **counts,
        "responder_rate": {"value": rate, "ci_low": low, "ci_high": high},
        "change": change,
        "noise_sd": noise,
        "response_sd": response_sd(change["sd"], noise) if change["sd"] is not None else None,
        "patients": sorted(rows, key=_waterfall_order),
    }


def surgery_within_a_year(principal, args):
    """Per kind of non-surgical treatment: the share followed by surgery within 12 months.

    Only treatments at least 12 months old count; younger ones are reported as pending.
    """
    cutoff = utcnow().date() - SURGERY_HORIZON
    anchors = with_filters(
        select(Treatment.kind)
        .join(Patient, Patient.id == Treatment.patient_id)
        .where(Treatment.patient_id.in_(visible_ids(principal)), Treatment.kind != SURGERY),
        args,
    )
    counts = db.session.execute(
        anchors.add_columns(
            func.count().filter(Treatment.performed_on <= cutoff),
            func.count().filter(Treatment.performed_on > cutoff),
        ).group_by(Treatment.kind)
    ).all()
    surgery = aliased(Treatment)
    followed = db.session.execute(
        anchors.add_columns(Treatment.id, Treatment.performed_on, surgery.performed_on).join(
            surgery,
            and_(
                surgery.patient_id == Treatment.patient_id,
                surgery.kind == SURGERY,
                surgery.performed_on > Treatment.performed_on,
            ),
        ).where(Treatment.performed_on <= cutoff)
    ).all()
    operated = {}
    for kind, treatment_id, treated_on, operated_on in followed:
        if operated_on <= treated_on + SURGERY_HORIZON:
            operated.setdefault(kind, set()).add(treatment_id)
    result = []
    for kind, n, pending in sorted(counts):
        surgeries = len(operated.get(kind, ()))
        share, low, high = wilson_interval(surgeries, n)
        result.append(
            {
                "treatment_kind": kind,
                "n": n,
                "surgeries": surgeries,
                "pending": pending,
                "share": {"value": share, "ci_low": low, "ci_high": high},
            }
        )
    return result


def outcomes(principal, args):
    """Cohort outcomes of one measure at one time point, optionally per group."""
    measure = find_measure(args["instrument"], args.get("score_name"))
    timepoint = args["timepoint"]
    group_by = args.get("group_by")
    trends.refresh_stale_among(visible_patients(principal))
    pairs = _pairs(principal, measure, timepoint, args, group_by)
    result = {
        "instrument": measure.instrument,
        "score_name": measure.score_name,
        "timepoint": timepoint,
        "surgery_within_12_months": surgery_within_a_year(principal, args),
    }
    if group_by:
        groups = {}
        for group, row in pairs:
            groups.setdefault(group, []).append(row)
        result["group_by"] = group_by
        result["groups"] = [
            {"group": group, **summary(measure, groups[group])}
            for group in sorted(groups, key=lambda g: (g is None, g or ""))
        ]
    else:
        result.update(summary(measure, [row for _, row in pairs]))
    result["anchor"] = anchor_check(measure, timepoint, [row for _, row in pairs])
    audit.record(principal, "cohort.read")
    return result


def trajectories(principal, measure, args):
    """Each visible (patient, treatment)'s baseline and time-point values over days from treatment.

    Read from the stored trends, filtered like the cohort; at most MAX_TRAJECTORIES lines.
    """
    query = with_filters(
        select(Trend.patient_id, Trend.treatment_id, Trend.baseline_value, Trend.timepoints)
        .join(Treatment, Treatment.id == Trend.treatment_id)
        .join(Patient, Patient.id == Trend.patient_id)
        .where(
            Trend.patient_id.in_(visible_ids(principal)),
            Trend.instrument == measure.instrument,
            Trend.score_name == measure.score_name,
            Trend.baseline_value.is_not(None),
        )
        .order_by(Trend.patient_id, Trend.treatment_id)
        .limit(MAX_TRAJECTORIES),
        args,
    )
    lines = []
    for patient_id, treatment_id, baseline, timepoints in db.session.execute(query):
        points = [{"x": 0, "y": baseline}]
        for label, point in in_time_order(timepoints):
            if point is not None and point[1] > 0:
                points.append({"x": point[1], "y": point[0], "label": label})
        lines.append({"patient_id": patient_id, "treatment_id": treatment_id, "points": points})
    return lines
