"""An instrument as a FHIR R4 Questionnaire, and an answer as a QuestionnaireResponse answer.

No licensed item text: items carry their key as linkId and their title (the ODI's section
titles, the RMDQ's item numbers), never the statements (clinical.md). An item scored on a
whole-number scale is a choice whose options carry their ordinal value, so a receiver can sum
them; the option codes are the ordinal values themselves, in a code system per instrument.
"""
from server.clinical.instruments import Instrument, Item
from server.fhir.vocabulary import (
    LOINC,
    MAX_VALUE,
    MIN_VALUE,
    ORDINAL_VALUE,
    questionnaire_id,
    questionnaire_url,
)


def answer_system(base, code):
    """The code system of an instrument's ordinal answer options."""
    return f"{base}/CodeSystem/{questionnaire_id(code)}-answer"


def is_ordinal(item: Item):
    """A whole-number item with both bounds: answered by picking one of its values."""
    return item.type == "integer" and item.min is not None and item.max is not None


def _computable_name(code):
    """The Questionnaire's name: the code in CamelCase (nrs_pain -> NrsPain)."""
    return "".join(part.capitalize() for part in code.split("_"))


def ordinal_coding(base, code, value):
    """One ordinal answer as a Coding carrying its ordinal value."""
    number = int(value)
    return {
        "extension": [{"url": ORDINAL_VALUE, "valueDecimal": number}],
        "system": answer_system(base, code),
        "code": str(number),
    }


def _bounds(item):
    """minValue and maxValue extensions of a decimal item."""
    return [
        {"url": url, "valueDecimal": bound}
        for url, bound in ((MIN_VALUE, item.min), (MAX_VALUE, item.max))
        if bound is not None
    ]


def questionnaire_item(base, instrument: Instrument, item: Item):
    """One item: linkId, title, type, answer options or bounds, and whether it is required."""
    entry = {"linkId": item.key, "text": item.title, "required": item.required}
    if is_ordinal(item):
        entry["type"] = "choice"
        entry["answerOption"] = [
            {"valueCoding": ordinal_coding(base, instrument.code, value)}
            for value in range(int(item.min), int(item.max) + 1)
        ]
    elif item.type in ("integer", "number"):
        entry["type"] = "integer" if item.type == "integer" else "decimal"
        if item.type == "number":
            entry["extension"] = _bounds(item)
    elif item.type == "boolean":
        entry["type"] = "boolean"
    else:
        entry["type"] = "string"
        if item.max is not None:
            entry["maxLength"] = int(item.max)
    return entry


def questionnaire(base, instrument: Instrument):
    """The instrument as a Questionnaire with its canonical url and version."""
    resource = {
        "resourceType": "Questionnaire",
        "id": questionnaire_id(instrument.code),
        "url": questionnaire_url(base, instrument.code),
        "version": instrument.version,
        "name": _computable_name(instrument.code),
        "title": instrument.title,
        "status": "active",
        "subjectType": ["Patient"],
        "copyright": instrument.licence,
        "item": [questionnaire_item(base, instrument, item) for item in instrument.items],
    }
    if instrument.loinc_panel:
        resource["code"] = [{"system": LOINC, "code": instrument.loinc_panel}]
    return resource


def answer(base, instrument: Instrument, item: Item, value):
    """A stored answer as a QuestionnaireResponse answer of the item's type."""
    if is_ordinal(item):
        return {"valueCoding": ordinal_coding(base, instrument.code, value)}
    if item.type == "integer":
        return {"valueInteger": int(value)}
    if item.type == "number":
        return {"valueDecimal": value}
    if item.type == "boolean":
        return {"valueBoolean": value}
    return {"valueString": value}
