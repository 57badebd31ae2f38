"""A patient's course per measure, as the clinician page charts it."""
from server.clinical.instruments import INSTRUMENTS
from server.clinical.trends import change_zones, find_measure, protocol_of

# The figures a patient's measure table shows per treatment, as the trends view names them.
FIGURES = (
    "change",
    "pct_change",
    "status",
    "reliable_change",
    "immpact_band",
    "slope_per_30d",
    "slope_se",
)


def _measure_key(measure):
    return f"{measure['instrument']}.{measure['score_name']}"


def patient_charts(treatments, trends_view):
    """One chart per measure, on days from the latest treatment that has data for it.

    `treatments` are the patient's Treatment rows; `trends_view` is trends.trends_of's result.
    """
    by_id = {treatment.id: treatment for treatment in treatments}
    charts = {}
    for treatment_trends in trends_view["treatments"]:
        treatment = by_id[treatment_trends["treatment_id"]]
        for measure in treatment_trends["measures"]:
            chart = charts.setdefault(_measure_key(measure), {"measure": measure, "parts": []})
            chart["parts"].append((treatment, measure))
    return [_chart(treatments, chart["parts"]) for chart in charts.values()]


def _chart(treatments, parts):
    """A measure's chart: points, baseline and zones of its anchor treatment, all treatments."""
    anchor, anchor_measure = parts[-1]
    instrument = INSTRUMENTS[anchor_measure["instrument"]]
    measure = find_measure(anchor_measure["instrument"], anchor_measure["score_name"])
    baseline = anchor_measure["baseline"]["value"] if anchor_measure["baseline"] else None
    points = []
    for treatment, part in parts:
        offset = (treatment.performed_on - anchor.performed_on).days
        points.extend(
            {
                "x": point["days_from_treatment"] + offset,
                "y": point["value"],
                "at": point["at"],
                "treatment_id": treatment.id,
            }
            for point in part["series"]
        )
    return {
        "key": _measure_key(anchor_measure),
        "title": instrument.title,
        "score_name": anchor_measure["score_name"],
        "direction": anchor_measure["direction"],
        "y_min": instrument.score_min,
        "y_max": instrument.score_max,
        "anchor": {"treatment_id": anchor.id, "kind": anchor.kind, "performed_on": anchor.performed_on},
        "baseline": baseline,
        "zones": change_zones(measure, baseline) if baseline is not None else None,
        "points": sorted(points, key=lambda point: (point["x"], point["at"])),
        "treatments": [
            {"x": (t.performed_on - anchor.performed_on).days, "kind": t.kind, "id": t.id}
            for t in treatments
        ],
        "time_points": [
            {"x": point.day, "label": point.label} for point in protocol_of(anchor).time_points
        ],
        "reference": _reference_band(anchor, anchor_measure),
        "figures": [_figures(treatment, part) for treatment, part in parts],
    }


def _reference_band(treatment, measure):
    """The comparable patients' percentiles at each time point that has a reference."""
    days = {point.label: point.day for point in protocol_of(treatment).time_points}
    return [
        {"x": days[label], "label": label, **reference["value"]}
        for label, reference in (measure.get("reference") or {}).items()
        if reference is not None and label in days
    ]


def _figures(treatment, measure):
    """The table row of one treatment's trend of the measure."""
    return {
        "treatment_id": treatment.id,
        "kind": treatment.kind,
        "performed_on": treatment.performed_on,
        "baseline": measure["baseline"]["value"] if measure["baseline"] else None,
        "latest": measure["latest"]["value"] if measure["latest"] else None,
        "timepoints": measure["timepoints"],
        "percentiles": {
            label: reference["percentile"]["value"]
            for label, reference in (measure.get("reference") or {}).items()
            if reference is not None
        },
        **{name: measure[name] for name in FIGURES},
    }
