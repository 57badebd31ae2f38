"""The clinic's own MIC, from an external anchor: the patient's global impression of change.

de Vet et al. 2006 (Health Qual Life Outcomes 4:54) and Terwee et al. 2010: with PGIC 1-2 as
importantly improved and 3-5 as not (PGIC 6-7, worse, left out), the ROC cut-off of the change
that maximizes sensitivity + specificity (Youden) is the anchor-based MIC.
"""
from collections.abc import Sequence

IMPROVED_PGIC = (1, 2)
NOT_IMPROVED_PGIC = (3, 4, 5)
# Policy (clinical.md): an anchor-based MIC needs this many anchored patients to mean anything.
MIN_ANCHORED = 30


def anchor_says_improved(pgic: float) -> bool | None:
    """True for PGIC 1-2, False for 3-5, None for 6-7 (worse, left out of the estimate)."""
    if pgic in IMPROVED_PGIC:
        return True
    if pgic in NOT_IMPROVED_PGIC:
        return False
    return None


def _ratio(count: int, total: int) -> float | None:
    return count / total if total else None


def agreement(pairs: Sequence[tuple[bool, bool]]) -> dict:
    """The 2x2 table of (MIC says improved, anchor says improved), with the sensitivity and
    specificity of the MIC-based "improved" against the anchor."""
    both = sum(mic and anchor for mic, anchor in pairs)
    mic_only = sum(mic and not anchor for mic, anchor in pairs)
    anchor_only = sum(anchor and not mic for mic, anchor in pairs)
    neither = len(pairs) - both - mic_only - anchor_only
    return {
        "anchored": len(pairs),
        "improved_both": both,
        "improved_by_mic_only": mic_only,
        "improved_by_anchor_only": anchor_only,
        "improved_by_neither": neither,
        "sensitivity": _ratio(both, both + anchor_only),
        "specificity": _ratio(neither, neither + mic_only),
    }


def roc_mic(improvements: Sequence[tuple[float, bool]]) -> dict | None:
    """The cut-off of improvement maximizing sensitivity + specificity against the anchor.

    `improvements` are (improvement, anchor says improved) pairs, improvement positive when the
    patient got better. Ties go to the smaller cut-off. None with fewer than MIN_ANCHORED pairs
    or without both anchor groups.
    """
    improved = [value for value, anchor in improvements if anchor]
    not_improved = [value for value, anchor in improvements if not anchor]
    if len(improvements) < MIN_ANCHORED or not improved or not not_improved:
        return None
    best = None
    for cut in sorted({value for value, _ in improvements}):
        sensitivity = sum(value >= cut for value in improved) / len(improved)
        specificity = sum(value < cut for value in not_improved) / len(not_improved)
        if best is None or sensitivity + specificity > best[1] + best[2]:
            best = (cut, sensitivity, specificity)
    return {"value": best[0], "sensitivity": best[1], "specificity": best[2]}
