"""Answer validation and scoring of check-ins, as pure functions."""
import math
import statistics
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from .instruments import Instrument, Item


@dataclass(frozen=True)
class Score:
    """A check-in's score; score is None and scorable False when it cannot be scored."""

    score: float | None
    subscores: dict[str, float]
    scorable: bool
    band: str | None


NOT_SCORABLE = Score(None, {}, False, None)

_TYPE_ERRORS = {
    "integer": "Must be an integer.",
    "number": "Must be a number.",
    "boolean": "Must be true or false.",
    "string": "Must be a string.",
}

# Fairbank & Pynsent 2000 (Spine 25:2940-52), edges as in clinical.md.
_ODI_BANDS = ((20, "minimal"), (40, "moderate"), (60, "severe"), (80, "crippled"))


def validate_answers(instrument: Instrument, answers: object) -> dict[str, list[str]]:
    """Errors by item key ('_schema' when answers is not an object); {} when valid."""
    if not isinstance(answers, dict):
        return {"_schema": ["Must be an object."]}
    errors: dict[str, list[str]] = {}
    for key, value in answers.items():
        item = instrument.item(key)
        message = "Unknown item." if item is None else _item_error(item, value)
        if message:
            errors[str(key)] = [message]
    for item in instrument.items:
        if item.required and answers.get(item.key) is None:
            errors[item.key] = ["Missing required item."]
    return errors


def _item_error(item: Item, value: object) -> str | None:
    """Why value is not a valid answer to item, or None; None itself means not answered."""
    if value is None:
        return None
    if item.type == "boolean":
        return None if isinstance(value, bool) else _TYPE_ERRORS["boolean"]
    if item.type == "string":
        if not isinstance(value, str):
            return _TYPE_ERRORS["string"]
        if item.max is not None and len(value) > item.max:
            return f"Must be at most {item.max:g} characters."
        return None
    # bool is an int subclass, so True must not pass as 1.
    if isinstance(value, bool) or not isinstance(value, int | float):
        return _TYPE_ERRORS[item.type]
    if isinstance(value, float):
        if not math.isfinite(value):
            return "Must be a finite number."
        # Integral floats (3.0) pass as integers: JSON clients may send them.
        if item.type == "integer" and not value.is_integer():
            return _TYPE_ERRORS["integer"]
    if not item.min <= value <= item.max:
        return f"Must be between {item.min:g} and {item.max:g}."
    return None


def score_answers(
    instrument: Instrument, answers: Mapping[str, object], *, odi_max_missing: int = 1
) -> Score:
    """Score validated answers with the instrument's scoring rule."""
    answered = {
        item.key: answers[item.key]
        for item in instrument.items
        if answers.get(item.key) is not None
    }
    percent_rule = instrument.scoring == "odi_percent"
    # Policy (clinical.md): the paper sets no cap on missing ODI sections.
    if percent_rule and len(instrument.items) - len(answered) > odi_max_missing:
        return NOT_SCORABLE
    value = SCORING_RULES[instrument.scoring](instrument, answered)
    if value is None:
        return NOT_SCORABLE
    subscores = {
        name: float(answered[name]) for name in instrument.subscore_names if name in answered
    }
    return Score(value, subscores, True, odi_band(value) if percent_rule else None)


def odi_band(percent: float) -> str:
    """The ODI disability band of a percent score."""
    return next((band for edge, band in _ODI_BANDS if percent <= edge), "bed_bound")


def _single(instrument: Instrument, answered: dict[str, object]) -> float | None:
    """The first item's value."""
    value = answered.get(instrument.items[0].key)
    return None if value is None else float(value)


def _sum_true(instrument: Instrument, answered: dict[str, object]) -> float:
    """The number of ticked boolean items; an absent item counts as not ticked."""
    return float(sum(answered.get(item.key) is True for item in instrument.items))


def _numeric(instrument: Instrument, answered: dict[str, object]) -> list[tuple[Item, float]]:
    """The answered numeric items with their values."""
    return [
        (item, float(answered[item.key]))
        for item in instrument.items
        if item.type in ("integer", "number") and item.key in answered
    ]


def _mean_of(instrument: Instrument, answered: dict[str, object]) -> float | None:
    """The mean of the answered numeric items."""
    values = [value for _, value in _numeric(instrument, answered)]
    return statistics.fmean(values) if values else None


def _odi_percent(instrument: Instrument, answered: dict[str, object]) -> float | None:
    """100 x points over the answered sections' maximum, unrounded (Fairbank & Pynsent 2000)."""
    pairs = _numeric(instrument, answered)
    possible = sum(item.max for item, _ in pairs)
    return 100 * sum(value for _, value in pairs) / possible if possible else None


SCORING_RULES: dict[str, Callable[[Instrument, dict[str, object]], float | None]] = {
    "single": _single,
    "sum_true": _sum_true,
    "mean_of": _mean_of,
    "odi_percent": _odi_percent,
}
