"""Trends, cohort outcomes and their query arguments."""
import marshmallow as ma
from marshmallow import fields, validate

from schemas.common import Computed, Cursor, Reply
from server.clinical.protocols import PROTOCOLS
from server.clinical.trends import MEASURES, find_measure
from server.vocabulary import CELL_SOURCES, CONDITIONS, TREATMENT_KINDS

FOLLOW_UP_LABELS = sorted(
    {tp.label for protocol in PROTOCOLS.values() for tp in protocol.time_points if tp.day > 0}
)
TIMEPOINTS = ["latest", *FOLLOW_UP_LABELS]
GROUP_BY = ("treatment_kind", "condition", "cell_source", "baseline_band")
TIME_TO_EVENTS = ("surgery", "serious_adverse_event")
INSTRUMENT_CODES = sorted({m.instrument for m in MEASURES})
SCORE_NAMES = sorted({m.score_name for m in MEASURES})

# Plain words for the labels the API gives, as a patient reads them.
MEASURE_WORDS = {
    "back_pain": "Back pain (0 = none, 10 = worst imaginable)",
    "leg": "Leg pain (0 = none, 10 = worst imaginable)",
    "pain": "Pain (0 = none, 100 = worst imaginable)",
    "odi_percent": "How much your back limits daily life (Oswestry, 0-100)",
    "rmdq_score": "Daily activities your back makes hard (Roland-Morris, 0-24)",
    "psfs_mean": "The activities you chose (0 = unable, 10 = as before)",
}
DIRECTION_WORDS = {"lower": "lower is better", "higher": "higher is better"}
STATUS_WORDS = {"improved": "better", "unchanged": "about the same", "worsened": "worse"}
RELIABLE_WORDS = {
    True: "a clear change, bigger than the usual ups and downs between answers",
    False: "could be the usual ups and downs between answers",
}
PAIN_RELIEF_WORDS = {
    "substantial": "at least half less pain",
    "moderate": "at least a third less pain",
    "minimal": "a little less pain",
    "none": "no less pain",
}


class ValueAtSchema(Reply):
    """A value and when it was recorded."""

    value = fields.Float()
    at = fields.AwareDateTime()


class LatestSchema(ValueAtSchema):
    """The latest value after the treatment."""

    days_from_treatment = fields.Integer()


class SeriesPointSchema(Reply):
    """One value of the series."""

    at = fields.String(metadata={"format": "date-time"})
    days_from_treatment = fields.Integer()
    value = fields.Float()


class MeasureTrendSchema(Reply):
    """One measure after one treatment."""

    instrument = fields.String(validate=validate.OneOf(INSTRUMENT_CODES))
    score_name = fields.String(validate=validate.OneOf(SCORE_NAMES))
    direction = fields.String(
        validate=validate.OneOf(sorted(DIRECTION_WORDS)),
        metadata={"description": "lower or higher is better"},
    )
    baseline = fields.Nested(ValueAtSchema, allow_none=True)
    latest = fields.Nested(LatestSchema, allow_none=True)
    timepoints = fields.Dict(keys=fields.String(), values=fields.Float(allow_none=True))
    change = fields.Float(allow_none=True)
    pct_change = fields.Float(allow_none=True)
    status = fields.String(allow_none=True, validate=validate.OneOf(sorted(STATUS_WORDS)))
    rci = fields.Float(allow_none=True)
    reliable_change = fields.Boolean(allow_none=True)
    immpact_band = fields.String(
        allow_none=True,
        validate=validate.OneOf(list(PAIN_RELIEF_WORDS)),
        metadata={"description": "pain measures only"},
    )
    slope_per_30d = fields.Float(allow_none=True)
    slope_se = fields.Float(allow_none=True)
    n_points = fields.Integer(metadata={"description": "values after the treatment"})
    series = fields.List(fields.Nested(SeriesPointSchema))


class PercentilesSchema(Reply):
    """The 10th, 25th, 50th, 75th and 90th percentiles of a distribution."""

    p10 = fields.Float()
    p25 = fields.Float()
    p50 = fields.Float()
    p75 = fields.Float()
    p90 = fields.Float()


class PercentileRankSchema(Reply):
    """Where the patient's score and change stand in the reference, 0-100 (mid-rank)."""

    value = fields.Float(allow_none=True)
    change = fields.Float(allow_none=True)


class ReferenceSchema(Reply):
    """Comparable patients at one time point: same treatment kind, at least 10 of them."""

    patients = fields.Integer()
    value = fields.Nested(PercentilesSchema)
    change = fields.Nested(PercentilesSchema, allow_none=True)
    percentile = fields.Nested(PercentileRankSchema)


class StaffMeasureTrendSchema(MeasureTrendSchema):
    """One measure after one treatment, placed among comparable patients per time point."""

    reference = fields.Dict(
        keys=fields.String(),
        values=fields.Nested(ReferenceSchema, allow_none=True),
        metadata={"description": "per time point; null where fewer than 10 patients compare"},
    )


class TreatmentTrendSchema(Reply):
    """The trends of every measure with data around one treatment."""

    treatment_id = fields.Integer()
    kind = fields.String(validate=validate.OneOf(TREATMENT_KINDS))
    performed_on = fields.Date()
    measures = fields.List(fields.Nested(StaffMeasureTrendSchema))


class PatientTrendsSchema(Reply):
    """A patient's trends per treatment."""

    patient_id = fields.Integer()
    computed_at = fields.AwareDateTime(allow_none=True)
    treatments = fields.List(fields.Nested(TreatmentTrendSchema))


class WordsSchema(Reply):
    """A measure's labels in plain words; null where the label has none."""

    measure = fields.String(allow_none=True)
    direction = fields.String(allow_none=True)
    change = fields.String(allow_none=True)
    certainty = fields.String(allow_none=True)
    pain_relief = fields.String(allow_none=True)


class MyMeasureTrendSchema(MeasureTrendSchema):
    """A measure as the patient reads it: the same data, with its labels in plain words."""

    words = Computed(WordsSchema, "_words")

    def _words(self, measure):
        return {
            "measure": MEASURE_WORDS.get(measure["score_name"]),
            "direction": DIRECTION_WORDS.get(measure["direction"]),
            "change": STATUS_WORDS.get(measure["status"]),
            "certainty": RELIABLE_WORDS.get(measure["reliable_change"]),
            "pain_relief": PAIN_RELIEF_WORDS.get(measure["immpact_band"]),
        }


class MyTreatmentTrendSchema(TreatmentTrendSchema):
    """A treatment's trends as the patient reads them."""

    measures = fields.List(fields.Nested(MyMeasureTrendSchema))


class MyTrendsSchema(PatientTrendsSchema):
    """The signed-in patient's trends, with plain words."""

    treatments = fields.List(fields.Nested(MyTreatmentTrendSchema))


class CohortArgs(ma.Schema):
    """Which measure, at which time point, over which patients, grouped how."""

    instrument = fields.String(
        required=True, validate=validate.OneOf(INSTRUMENT_CODES)
    )
    score_name = fields.String(
        validate=validate.OneOf(SCORE_NAMES),
        metadata={"description": "the instrument's primary score by default; 'leg' for leg pain"},
    )
    timepoint = fields.String(
        load_default="latest", validate=validate.OneOf(TIMEPOINTS)
    )
    treatment_kind = fields.String(validate=validate.OneOf(TREATMENT_KINDS))
    condition = fields.String(validate=validate.OneOf(CONDITIONS))
    group_by = fields.String(validate=validate.OneOf(GROUP_BY))
    limit = fields.Integer(
        load_default=500,
        validate=validate.Range(min=1, max=1000),
        metadata={"description": "rows of `patients` per page; the summary covers every row"},
    )
    cursor = Cursor(
        load_default=0,
        metadata={"description": "next_cursor of the previous page, exactly as returned"},
    )

    @ma.validates_schema
    def _measure_exists(self, data, **kwargs):
        instrument = data.get("instrument")
        if instrument and find_measure(instrument, data.get("score_name")) is None:
            raise ma.ValidationError(
                f"Not a score of {data['instrument']}.", field_name="score_name"
            )


class RateSchema(Reply):
    """A proportion with its 95% Wilson interval, as fractions."""

    value = fields.Float(allow_none=True)
    ci_low = fields.Float(allow_none=True)
    ci_high = fields.Float(allow_none=True)


class SpreadSchema(Reply):
    """The spread of the changes."""

    mean = fields.Float(allow_none=True)
    sd = fields.Float(allow_none=True)
    median = fields.Float(allow_none=True)
    q1 = fields.Float(allow_none=True)
    q3 = fields.Float(allow_none=True)
    min = fields.Float(allow_none=True)
    max = fields.Float(allow_none=True)


class CohortRowSchema(Reply):
    """One (patient, treatment) pair: a bar of the waterfall plot."""

    patient_id = fields.Integer()
    treatment_id = fields.Integer()
    baseline = fields.Float()
    followup = fields.Float()
    change = fields.Float()
    pct_change = fields.Float(allow_none=True)
    status = fields.String(validate=validate.OneOf(sorted(STATUS_WORDS)))
    reliable_change = fields.Boolean(allow_none=True)


class PassThroughList(fields.List):
    """Rows a service already built in the documented shape, dumped as they are.

    A cohort holds thousands of rows; dumping each through marshmallow took most of a request.
    """

    def _serialize(self, value, attr, obj, **kwargs):
        return value


class CohortSummarySchema(Reply):
    """Counts, responder rate, the change's spread, noise and true-response SD, and the rows."""

    n = fields.Integer()
    improved = fields.Integer()
    unchanged = fields.Integer()
    worsened = fields.Integer()
    responder_rate = fields.Nested(RateSchema)
    change = fields.Nested(SpreadSchema)
    noise_sd = fields.Float(allow_none=True, metadata={"description": "the measure's S_diff"})
    response_sd = fields.Float(
        allow_none=True, metadata={"description": "spread of true responses, net of noise"}
    )
    patients = PassThroughList(
        fields.Nested(CohortRowSchema), metadata={"description": "sorted by percent change"}
    )


class CohortGroupSchema(CohortSummarySchema):
    """The summary of one group."""

    group = fields.String(allow_none=True)


class SurgeryShareSchema(Reply):
    """Non-surgical treatments of one kind followed by surgery within 12 months."""

    treatment_kind = fields.String(validate=validate.OneOf(TREATMENT_KINDS))
    n = fields.Integer(metadata={"description": "treatments at least 12 months old"})
    surgeries = fields.Integer()
    pending = fields.Integer(metadata={"description": "treatments younger than 12 months"})
    share = fields.Nested(RateSchema)


class AnchorMicSchema(Reply):
    """The clinic's own MIC: the ROC cut-off of improvement against the PGIC anchor."""

    value = fields.Float()
    sensitivity = fields.Float()
    specificity = fields.Float()


class AnchorSchema(Reply):
    """MIC-based "improved" against the patient's PGIC (1-2 improved, 3-5 not, 6-7 left out)."""

    anchored = fields.Integer()
    improved_both = fields.Integer()
    improved_by_mic_only = fields.Integer()
    improved_by_anchor_only = fields.Integer()
    improved_by_neither = fields.Integer()
    sensitivity = fields.Float(allow_none=True)
    specificity = fields.Float(allow_none=True)
    mic = fields.Nested(
        AnchorMicSchema,
        allow_none=True,
        metadata={"description": "null with fewer than 30 anchored patients"},
    )
    literature_mic = fields.Float(allow_none=True)


class _CohortQuerySchema(Reply):
    """What every cohort answer has: the measure, the time point, the anchor and surgeries."""

    instrument = fields.String(validate=validate.OneOf(INSTRUMENT_CODES))
    score_name = fields.String(validate=validate.OneOf(SCORE_NAMES))
    timepoint = fields.String(validate=validate.OneOf(TIMEPOINTS))
    anchor = fields.Nested(AnchorSchema)
    surgery_within_12_months = fields.List(fields.Nested(SurgeryShareSchema))
    next_cursor = Cursor(
        allow_none=True, metadata={"description": "the cursor of the next page; null on the last"}
    )
    has_more = fields.Boolean(metadata={"description": "whether another page follows"})


class CohortOutcomesSchema(CohortSummarySchema, _CohortQuerySchema):
    """Cohort outcomes over every patient you may see (no group_by)."""


class GroupedCohortOutcomesSchema(_CohortQuerySchema):
    """Cohort outcomes with group_by: the summary per group instead of over all."""

    group_by = fields.String(validate=validate.OneOf(GROUP_BY))
    groups = fields.List(fields.Nested(CohortGroupSchema))


class TimeToEventArgs(ma.Schema):
    """Which event, over which patients."""

    event = fields.String(
        load_default="surgery",
        validate=validate.OneOf(TIME_TO_EVENTS),
        metadata={"description": "a later surgery, or a severe or life-threatening adverse event"},
    )
    treatment_kind = fields.String(validate=validate.OneOf(TREATMENT_KINDS))
    condition = fields.String(validate=validate.OneOf(CONDITIONS))


class SurvivalEstimateSchema(Reply):
    """The share still free of the event at a time, with its 95% log-log interval."""

    days = fields.Integer()
    survival = fields.Float(allow_none=True)
    ci_low = fields.Float(allow_none=True)
    ci_high = fields.Float(allow_none=True)
    at_risk = fields.Integer()


class SurvivalStepSchema(Reply):
    """The estimate just after a time at which an event or a censoring happened."""

    days = fields.Float()
    at_risk = fields.Integer()
    events = fields.Integer()
    censored = fields.Integer()
    survival = fields.Float()
    ci_low = fields.Float(allow_none=True)
    ci_high = fields.Float(allow_none=True)


class SurvivalGroupSchema(Reply):
    """One treatment kind (or one cell source of it): its estimates at 6, 12, 24 months and curve."""

    treatment_kind = fields.String(validate=validate.OneOf(TREATMENT_KINDS))
    cell_source = fields.String(allow_none=True, validate=validate.OneOf(CELL_SOURCES))
    n = fields.Integer()
    events = fields.Integer()
    at = fields.Dict(keys=fields.String(), values=fields.Nested(SurvivalEstimateSchema))
    curve = fields.List(fields.Nested(SurvivalStepSchema))


class TimeToEventSchema(Reply):
    """Kaplan–Meier estimates per group."""

    event = fields.String(validate=validate.OneOf(TIME_TO_EVENTS))
    groups = fields.List(fields.Nested(SurvivalGroupSchema))
