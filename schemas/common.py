"""Fields and schemas shared by every resource.

Request fields carry the pattern the server checks, so the OpenAPI document says exactly what
is accepted.
"""
import re
from datetime import date, time
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

import marshmallow as ma
from marshmallow import fields, validate

VALID_TIMEZONES = frozenset(available_timezones())
HH_MM = r"^([01][0-9]|2[0-3]):[0-5][0-9]$"
# No C0 control character but tab and newline.
NO_CONTROLS = r"^[^\x00-\x08\x0b-\x1f]*$"
# ... and at least one character that is neither a control nor white space.
NOT_BLANK = r"^[^\x00-\x08\x0b-\x1f]*[^\s\x00-\x08\x0b-\x1f][^\x00-\x08\x0b-\x1f]*$"
# RFC 3339 with an offset, in the years 1901-8999: far enough from the calendar's ends that
# every time zone can convert the instant.
RFC3339_YEARS = r"^(190[1-9]|19[1-9][0-9]|[2-8][0-9]{3})-"
RFC3339 = re.compile(
    r"(?P<year>[0-9]{4})-[0-9]{2}-[0-9]{2}[Tt][0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?"
    r"([Zz]|[+-][0-9]{2}:[0-9]{2})"
)
# The same years for a calendar date: a schedule counted from it stays within the calendar.
DATE_WITHIN_CALENDAR = validate.Range(
    min=date(1901, 1, 1), max=date(8999, 12, 31), error="Must be between the years 1901 and 8999."
)


class UnicodeString(fields.String):
    """A string that can be stored and hashed: no lone surrogates such as JSON's "\\ud800"."""

    def _deserialize(self, value, attr, data, **kwargs):
        value = super()._deserialize(value, attr, data, **kwargs)
        try:
            value.encode("utf-8")
        except UnicodeEncodeError as exc:
            raise ma.ValidationError("Must be valid Unicode text.") from exc
        return value


class Text(UnicodeString):
    """A string with no NUL or other control characters, surrounding spaces trimmed; one that
    must not be empty must not be blank either. A maximum length counts the string as sent,
    as the document's maxLength does."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        lengths = [v for v in self.validators if isinstance(v, validate.Length)]
        blank_refused = any(length.min for length in lengths)
        self.max_length = min((length.max for length in lengths if length.max), default=None)
        self.metadata = {"pattern": NOT_BLANK if blank_refused else NO_CONTROLS, **self.metadata}

    def _deserialize(self, value, attr, data, **kwargs):
        value = super()._deserialize(value, attr, data, **kwargs)
        if any(ord(ch) < 32 and ch not in "\n\t" for ch in value):
            raise ma.ValidationError("Must not contain control characters.")
        if self.max_length is not None and len(value) > self.max_length:
            raise ma.ValidationError(f"Longer than maximum length {self.max_length}.")
        return value.strip()


class StrictBoolean(fields.Boolean):
    """Only JSON true or false."""

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, bool):
            raise ma.ValidationError("Must be true or false.")
        return value


class Timezone(fields.String):
    """An IANA time zone name such as Europe/Berlin; the document lists them (`TimeZone`)."""

    openapi_component = "TimeZone"

    def _deserialize(self, value, attr, data, **kwargs):
        value = super()._deserialize(value, attr, data, **kwargs)
        if value not in VALID_TIMEZONES:
            raise ma.ValidationError("Not a known IANA time zone name.")
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ma.ValidationError("Not a known IANA time zone name.") from exc
        return value


class LocalTime(fields.String):
    """A wall-clock time as HH:MM."""

    def __init__(self, **kwargs):
        kwargs["metadata"] = {"pattern": HH_MM, **kwargs.get("metadata", {})}
        super().__init__(**kwargs)

    def _serialize(self, value, attr, obj, **kwargs):
        return None if value is None else value.strftime("%H:%M")

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, str) or not re.match(HH_MM, value):
            raise ma.ValidationError("Must be a local time as HH:MM.")
        return time.fromisoformat(value)


class AwareDateTime(fields.AwareDateTime):
    """An RFC 3339 instant with an offset, in the years 1901-8999."""

    def __init__(self, **kwargs):
        kwargs["metadata"] = {
            "pattern": RFC3339_YEARS,
            "examples": ["2026-03-01T09:30:00+01:00"],
            **kwargs.get("metadata", {}),
        }
        super().__init__(format="iso", **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        found = RFC3339.fullmatch(value) if isinstance(value, str) else None
        if found is None:
            raise ma.ValidationError("Must be an RFC 3339 date-time with an offset.")
        if not 1901 <= int(found["year"]) <= 8999:
            raise ma.ValidationError("Must be between the years 1901 and 8999.")
        return super()._deserialize(value.upper(), attr, data, **kwargs)


class UpdateSchema(ma.Schema):
    """A PATCH body: any of the fields, but at least one."""

    # Schema-level keywords the document adds (server/api/contract.py).
    openapi_keywords = {"minProperties": 1}

    @ma.validates_schema
    def _changes_something(self, data, **kwargs):
        if not data:
            raise ma.ValidationError("Give at least one field to change.")


class Cursor(fields.String):
    """A page cursor, the same string both ways: digits, read as a position (in the sync feed,
    or in a list's order); every string the pattern allows is a valid position, the empty one
    the start and one past the last position the end."""

    PATTERN = re.compile(r"^[0-9]{0,10}$")
    # Positions are 32-bit integers, as the sync feed's are in the database.
    LARGEST = 2**31 - 1

    def __init__(self, metadata=None, **kwargs):
        super().__init__(metadata={"pattern": self.PATTERN.pattern, **(metadata or {})}, **kwargs)

    def _serialize(self, value, attr, obj, **kwargs):
        return None if value is None else str(value)

    def _deserialize(self, value, attr, data, **kwargs):
        value = super()._deserialize(value, attr, data, **kwargs)
        if not self.PATTERN.match(value):
            raise ma.ValidationError("Must be a next_cursor as returned: up to 10 digits.")
        return min(int(value or 0), self.LARGEST)


class Reply(ma.Schema):
    """A response body. The server sends every field (null where allowed), so the document
    marks each one required; `Meta.optional` names those it may leave out."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        optional = getattr(self.Meta, "optional", ())
        for name, field in self.fields.items():
            field.required = name not in optional


def field_errors():
    """Invalid fields by location, as error bodies and batch results carry them."""
    return fields.Dict(
        keys=fields.String(),
        values=fields.Raw(
            metadata={
                "type": ["object", "array"],
                "items": {"type": "string"},
                "description": "field name: a list of messages, or the same for nested fields;"
                " a list of messages for the body as a whole",
            }
        ),
        metadata={"description": "invalid fields by location (json, query, path, headers)"},
    )


class ErrorSchema(Reply):
    """The one error body: the status again, its name, a message and, for invalid fields,
    where they are (json, query, path) and what is wrong with each."""

    class Meta:
        optional = ("errors",)

    code = fields.Integer(metadata={"description": "the HTTP status"})
    status = fields.String(metadata={"description": "the status's name, e.g. Not Found"})
    message = fields.String()
    errors = field_errors()


class Computed(fields.Nested):
    """A nested object that a method of the schema computes from the whole object."""

    def __init__(self, nested, method, **kwargs):
        super().__init__(nested, **kwargs)
        self.method = method

    def get_value(self, obj, attr, accessor=None, default=ma.missing):
        return getattr(self.parent, self.method)(obj)


class PageArgs(ma.Schema):
    """Pagination query arguments."""

    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=1_000_000))
    per_page = fields.Integer(load_default=25, validate=validate.Range(min=1, max=100))


class PageSchema(Reply):
    """The envelope around one page of results."""

    page = fields.Integer()
    per_page = fields.Integer()
    total = fields.Integer()


def page_schema(item_schema, name):
    """A page envelope schema whose items are item_schema."""
    return PageSchema.from_dict({"items": fields.List(fields.Nested(item_schema))}, name=name)

