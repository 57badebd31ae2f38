"""The check-in body per instrument, for the OpenAPI document: each instrument's answers with
their types, ranges and required items, as `server/clinical/scoring.py` validates them."""
from schemas.common import NO_CONTROLS
from server.clinical.instruments import INSTRUMENTS

JSON_TYPES = {"integer": "integer", "number": "number", "boolean": "boolean", "string": "string"}
# What an example answer looks like per item type (numbers take the middle of their range).
EXAMPLE_ANSWERS = {"boolean": False, "string": "Gardening"}


def component_name(instrument):
    """The name of the instrument's check-in body in the document, e.g. CheckInSubmitNrsPain."""
    return "CheckInSubmit" + instrument.code.title().replace("_", "")


def item_schema(item):
    """One answer: its type and range; an item that is not required may be null."""
    schema = {"type": JSON_TYPES[item.type] if item.required else [JSON_TYPES[item.type], "null"]}
    schema["description"] = item.title
    if item.type == "string":
        schema.update(maxLength=int(item.max), pattern=NO_CONTROLS)
    elif item.type in ("integer", "number"):
        schema.update(minimum=item.min, maximum=item.max)
    return schema


def answers_schema(instrument):
    """The answers object of one instrument: its items, no others."""
    schema = {
        "type": "object",
        "properties": {item.key: item_schema(item) for item in instrument.items},
        "additionalProperties": False,
    }
    required = [item.key for item in instrument.items if item.required]
    if required:
        schema["required"] = required
    return schema


def example_answer(item):
    """A valid answer to the item, for the document's examples."""
    if item.type in ("integer", "number"):
        return int((item.min + item.max) // 2)
    return EXAMPLE_ANSWERS[item.type]


def submit_schema(instrument, common):
    """A check-in of one instrument: the common fields (from CheckInSubmit) with its answers."""
    properties = dict(common["properties"])
    properties["instrument"] = {"type": "string", "enum": [instrument.code]}
    properties["answers"] = answers_schema(instrument)
    example = {
        "id": "0b7e5f0e-4d1c-4c8e-9a57-3f1f2b6c9d10",
        "instrument": instrument.code,
        "answers": {item.key: example_answer(item) for item in instrument.items},
        "completed_at": "2026-03-01T09:30:00+01:00",
        "notes": None,
    }
    return {**common, "title": instrument.title, "properties": properties, "examples": [example]}


def document(spec, common):
    """Register one check-in body per instrument; returns the oneOf that chooses among them."""
    mapping = {}
    for instrument in INSTRUMENTS.values():
        name = component_name(instrument)
        spec.components.schema(name, submit_schema(instrument, common))
        mapping[instrument.code] = f"#/components/schemas/{name}"
    return {
        "oneOf": [{"$ref": ref} for ref in mapping.values()],
        "discriminator": {"propertyName": "instrument", "mapping": mapping},
    }
