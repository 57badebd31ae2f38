"""Outcome-measure definitions as data, and the registry of instruments."""
from dataclasses import dataclass


@dataclass(frozen=True)
class Item:
    """One answerable item; for a 'string' item, max is the maximum length."""

    key: str
    title: str
    type: str  # 'integer' | 'number' | 'boolean' | 'string'
    min: float | None = None
    max: float | None = None
    required: bool = False


@dataclass(frozen=True, kw_only=True)
class Instrument:
    """A questionnaire: its items, how it is scored and how its change is judged."""

    code: str
    version: str = "1.0"
    title: str
    items: tuple[Item, ...]
    scoring: str  # a rule name in scoring.SCORING_RULES
    score_name: str
    subscore_names: tuple[str, ...] = ()  # item keys reported as subscores
    direction: str = "lower"  # 'lower' | 'higher' is better
    score_min: float = 0
    score_max: float
    mic: float | None
    mic_percent: float | None = None
    sem: float | None = None
    loinc: str | None = None
    licence: str = "Free to use."
    loinc_panel: str | None = None

    def item(self, key: str) -> Item | None:
        """The item with this key, or None."""
        return next((item for item in self.items if item.key == key), None)


ODI_SECTIONS = (
    ("pain_intensity", "Pain intensity"),
    ("personal_care", "Personal care"),
    ("lifting", "Lifting"),
    ("walking", "Walking"),
    ("sitting", "Sitting"),
    ("standing", "Standing"),
    ("sleeping", "Sleeping"),
    ("sex_life", "Sex life"),
    ("social_life", "Social life"),
    ("travelling", "Travelling"),
)

PSFS_ACTIVITIES = 5

# The MICs, and the 30% relative improvement for pain and disability:
# Ostelo et al. 2008 (Spine 33:90-94).
PAIN_DISABILITY_MIC_PERCENT = 0.30

INSTRUMENTS: dict[str, Instrument] = {
    instrument.code: instrument
    for instrument in (
        Instrument(
            code="nrs_pain",
            title="Numeric Rating Scale for pain",
            items=(
                Item("back", "Back pain", "integer", 0, 10, required=True),
                Item("leg", "Leg pain", "integer", 0, 10),
            ),
            scoring="single",
            score_name="back_pain",
            subscore_names=("leg",),
            score_max=10,
            mic=2,
            mic_percent=PAIN_DISABILITY_MIC_PERCENT,
            sem=1.02,  # Childs et al. 2005 (Spine 30:1331-4)
            loinc="72514-3",
        ),
        Instrument(
            code="vas_pain",
            title="Visual Analogue Scale for pain",
            items=(Item("pain", "Pain", "number", 0, 100, required=True),),
            scoring="single",
            score_name="pain",
            score_max=100,
            mic=15,
            mic_percent=PAIN_DISABILITY_MIC_PERCENT,
            loinc="38214-3",
        ),
        Instrument(
            code="odi",
            version="2.1a",
            title="Oswestry Disability Index",
            items=tuple(Item(key, title, "integer", 0, 5) for key, title in ODI_SECTIONS),
            scoring="odi_percent",
            score_name="odi_percent",
            score_max=100,
            mic=10,
            mic_percent=PAIN_DISABILITY_MIC_PERCENT,
            sem=6,  # Davidson & Keating 2002 (Phys Ther 82:8-24)
            loinc="97909-6",
            loinc_panel="97908-8",
            licence=(
                "ODI (c) Fairbank 1980; v2.1a text licensed through Mapi Research Trust. "
                "Section keys and titles only."
            ),
        ),
        Instrument(
            code="rmdq",
            title="Roland-Morris Disability Questionnaire",
            # Absence means not ticked: the mobile form is a list of checkboxes.
            items=tuple(Item(f"item_{n}", f"Item {n}", "boolean") for n in range(1, 25)),
            scoring="sum_true",
            score_name="rmdq_score",
            score_max=24,
            mic=5,
            mic_percent=PAIN_DISABILITY_MIC_PERCENT,
            licence="Free printed form (Roland & Fairbank 2000). Item numbers only.",
        ),
        Instrument(
            code="psfs",
            title="Patient-Specific Functional Scale",
            items=tuple(
                item
                for n in range(1, PSFS_ACTIVITIES + 1)
                for item in (
                    Item(f"activity_{n}", f"Activity {n}", "integer", 0, 10, required=n == 1),
                    Item(f"activity_{n}_name", f"Activity {n} name", "string", max=100),
                )
            ),
            scoring="mean_of",
            score_name="psfs_mean",
            direction="higher",
            score_max=10,
            mic=2,
        ),
        Instrument(
            code="pgic",
            title="Patient Global Impression of Change",
            items=(Item("change", "Change", "integer", 1, 7, required=True),),
            scoring="single",
            score_name="change",
            score_min=1,
            score_max=7,
            mic=None,
        ),
    )
}


def get_instrument(code: str) -> Instrument | None:
    """The instrument with this code, or None."""
    return INSTRUMENTS.get(code)
