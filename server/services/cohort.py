"""Cohort outcomes over the patients a caller may see: the whole spread, not only a mean."""
import heapq
from collections import Counter, defaultdict
from datetime import timedelta

from sqlalchemy import and_, func, literal, literal_column, select
from sqlalchemy.orm import aliased

from server.clinical.anchors import agreement, anchor_says_improved, roc_mic
from server.clinical.outcomes import (
    change_status,
    is_reliable_change,
    pct_change,
    reliable_change_index,
    response_sd,
    s_diff,
    summarize,
    wilson_interval,
)
from server.clinical.protocols import in_time_order
from server.clinical.scoring import odi_band
from server.clinical.trends import Reading, TreatmentFacts, find_measure, follow_up_values
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
    """{group: [row]} per (patient, treatment) with a baseline and a value at the time point.

    A row is a tuple that sorts in waterfall order (percent change ascending, a row without
    one last, then patient and treatment): (no pct, pct or 0, patient, treatment, baseline,
    followup, change, pct, status, reliable change). Tuples, not dicts: a cohort holds every
    patient, and only one page of rows is shown.
    """
    followup_column = _value_at(Trend, timepoint)
    query = _joined(
        select(
            Trend.patient_id,
            Trend.treatment_id,
            Trend.baseline_value,
            followup_column,
            _group_column(group_by),
        ).where(
            Trend.patient_id.in_(visible_ids(principal)),
            Trend.instrument == measure.instrument,
            Trend.score_name == measure.score_name,
            Trend.baseline_value.is_not(None),
            followup_column.is_not(None),
        ),
        args,
        group_by,
    )
    compared = {}  # scores take few values: each (baseline, follow-up) is compared once
    groups = defaultdict(list)
    with trend_store.collector_paused():
        for patient_id, treatment_id, baseline, followup, group in trend_store.fetch(query):
            if group_by == "baseline_band":
                group = odi_band(group) if group is not None else None
            facts = compared.get((baseline, followup))
            if facts is None:
                facts = compared[(baseline, followup)] = _compared(measure, baseline, followup)
            no_pct, pct_key, *rest = facts
            groups[group].append((no_pct, pct_key, patient_id, treatment_id, *rest))
    return groups


def _compared(measure, baseline, followup):
    """The parts of clinical.trends.compare a cohort row shows, with its sort key in front."""
    instrument = measure.definition
    pct = pct_change(baseline, followup)
    return (
        pct is None,
        pct or 0.0,
        baseline,
        followup,
        followup - baseline,
        pct,
        change_status(instrument, baseline, followup),
        is_reliable_change(reliable_change_index(instrument, baseline, followup)),
    )


def _joined(query, args, group_by):
    """A query of trends joined to the treatments and patients its filters and grouping read:
    only those, since each join costs a pass over every visible patient."""
    if args.get("treatment_kind") or group_by in ("treatment_kind", "cell_source"):
        query = query.join(Treatment, Treatment.id == Trend.treatment_id)
    if args.get("condition") or group_by == "condition":
        query = query.join(Patient, Patient.id == Trend.patient_id)
    return with_filters(query, args)


ROW_FIELDS = ("patient_id", "treatment_id", "baseline", "followup", "change", "pct_change",
              "status", "reliable_change")


def _as_dict(row):
    return dict(zip(ROW_FIELDS, row[2:]))


def _group_order(group):
    return (group is None, group or "")


def page(groups, limit, offset=0):
    """One page of rows in output order (group by group, each in waterfall order) from the
    offset: ({group: [rows on the page]}, the next page's offset or None)."""
    shown, skip, left = {}, offset, limit
    for group in sorted(groups, key=_group_order):
        rows = groups[group]
        if skip >= len(rows):
            skip -= len(rows)
            continue
        taken = heapq.nsmallest(skip + left + 1, rows)[skip:]
        skip = 0
        shown[group] = taken[:left]
        if len(taken) > left:
            return shown, offset + limit
        left -= len(taken)
    return shown, None


def _anchors(patients, timepoint):
    """{(patient, treatment): PGIC at the time point} from the PGIC check-ins of a select of
    patient ids."""
    readings = defaultdict(list)
    for patient_id, completed_at, score in db.session.execute(
        select(CheckIn.patient_id, CheckIn.completed_at, CheckIn.score).where(
            CheckIn.patient_id.in_(patients),
            # A literal, so that the plan uses the partial index of PGIC check-ins.
            CheckIn.instrument == literal_column(f"'{ANCHOR_INSTRUMENT}'"),
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


def anchor_check(principal, measure, timepoint, rows):
    """The MIC-based status against the patient's PGIC at the same time point, and the
    clinic's own MIC by the ROC method beside the literature's (clinical.md, anchors.py)."""
    anchors = _anchors(visible_ids(principal), timepoint)
    judged, improvements = [], []
    lower_is_better = measure.definition.direction == "lower"
    for row in rows:
        pgic = anchors.get((row[2], row[3]))
        improved = anchor_says_improved(pgic) if pgic is not None else None
        if improved is None:
            continue
        judged.append((row[8] == "improved", improved))
        improvements.append((-row[6] if lower_is_better else row[6], improved))
    return {
        **agreement(judged),
        "mic": roc_mic(improvements),
        "literature_mic": measure.definition.mic,
    }


def summary(measure, rows, shown):
    """Counts, responder rate, the change's spread, noise and true-response SD over all rows,
    and the rows on the page."""
    counts = Counter(row[8] for row in rows)
    counts = {status: counts[status] for status in ("improved", "unchanged", "worsened")}
    rate, low, high = wilson_interval(counts["improved"], len(rows))
    change = summarize([row[6] for row in rows])
    noise = s_diff(measure.definition.sem) if measure.definition.sem is not None else None
    return {
        "n": len(rows),
        **counts,
        "responder_rate": {"value": rate, "ci_low": low, "ci_high": high},
        "change": change,
        "noise_sd": noise,
        "response_sd": response_sd(change["sd"], noise) if change["sd"] is not None else None,
        "patients": [_as_dict(row) for row in shown],
    }


def surgery_within_a_year(principal, args):
    """Per kind of non-surgical treatment: the share followed by surgery within 12 months.

    Only treatments at least 12 months old count; younger ones are reported as pending.
    """
    cutoff = utcnow().date() - SURGERY_HORIZON
    anchors = select(Treatment.kind).where(
        Treatment.patient_id.in_(visible_ids(principal)), Treatment.kind != SURGERY
    )
    if args.get("condition"):
        anchors = anchors.join(Patient, Patient.id == Treatment.patient_id)
    anchors = with_filters(anchors, args)
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
    """Cohort outcomes of one measure at one time point, optionally per group: the summary over
    every row, the rows themselves one page at a time (`limit` after `cursor`)."""
    measure = find_measure(args["instrument"], args.get("score_name"))
    timepoint = args["timepoint"]
    group_by = args.get("group_by")
    trends.refresh_stale_among(visible_patients(principal))
    groups = _pairs(principal, measure, timepoint, args, group_by)
    shown, next_cursor = page(groups, args["limit"], args["cursor"])
    result = {
        "instrument": measure.instrument,
        "score_name": measure.score_name,
        "timepoint": timepoint,
        "surgery_within_12_months": surgery_within_a_year(principal, args),
        "next_cursor": next_cursor,
        "has_more": next_cursor is not None,
    }
    if group_by:
        result["group_by"] = group_by
        result["groups"] = [
            {"group": group, **summary(measure, groups[group], shown.get(group, []))}
            for group in sorted(groups, key=_group_order)
        ]
    else:
        result.update(summary(measure, groups.get(None, []), shown.get(None, [])))
    every = [row for rows in groups.values() for row in rows]
    result["anchor"] = anchor_check(principal, measure, timepoint, every)
    audit.record(principal, "cohort.read")
    return result


def trajectories(principal, measure, args):
    """Each visible (patient, treatment)'s baseline and time-point values over days from treatment.

    Read from the stored trends, filtered like the cohort; at most MAX_TRAJECTORIES lines.
    """
    query = _joined(
        select(Trend.patient_id, Trend.treatment_id, Trend.baseline_value, Trend.timepoints)
        .where(
            Trend.patient_id.in_(visible_ids(principal)),
            Trend.instrument == measure.instrument,
            Trend.score_name == measure.score_name,
            Trend.baseline_value.is_not(None),
        )
        .order_by(Trend.patient_id, Trend.treatment_id)
        .limit(MAX_TRAJECTORIES),
        args,
        None,
    )
    lines = []
    for patient_id, treatment_id, baseline, timepoints in db.session.execute(query):
        points = [{"x": 0, "y": baseline}]
        for label, point in in_time_order(timepoints):
            if point is not None and point[1] > 0:
                points.append({"x": point[1], "y": point[0], "label": label})
        lines.append({"patient_id": patient_id, "treatment_id": treatment_id, "points": points})
    return lines
