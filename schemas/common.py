"""Fields and schemas shared by every resource."""
from datetime import date, datetime, time, timezone
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

import marshmallow as ma
from marshmallow import fields, validate

VALID_TIMEZONES = frozenset(available_timezones())
HH_MM = r"^([01][0-9]|2[0-3]):[0-5][0-9]$"
# Far enough from the calendar's ends that every time zone can convert the instant.
WITHIN_CALENDAR = validate.Range(
    min=datetime(1900, 1, 1, tzinfo=timezone.utc),
    max=datetime(9000, 1, 1, tzinfo=timezone.utc),
    error="Must be between the years 1900 and 9000.",
)
# The same for a calendar date: a schedule counted from it stays within the calendar.
DATE_WITHIN_CALENDAR = validate.Range(
    min=date(1900, 1, 1), max=date(9000, 1, 1), error="Must be between the years 1900 and 9000."
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
    """A string with surrounding spaces trimmed and no NUL or other control characters."""

    def _deserialize(self, value, attr, data, **kwargs):
        value = super()._deserialize(value, attr, data, **kwargs).strip()
        if any(ord(ch) < 32 and ch not in "\n\t" for ch in value):
            raise ma.ValidationError("Must not contain control characters.")
        return value


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
        if not isinstance(value, str) or len(value) != 5 or value[2] != ":":
            raise ma.ValidationError("Must be a local time as HH:MM.")
        try:
            return time.fromisoformat(value)
        except ValueError as exc:
            raise ma.ValidationError("Must be a local time as HH:MM.") from exc


class AwareDateTime(fields.AwareDateTime):
    """An RFC 3339 instant with an offset; naive times are refused."""

    def __init__(self, **kwargs):
        super().__init__(format="iso", **kwargs)


class UpdateSchema(ma.Schema):
    """A PATCH body: any of the fields, but at least one."""

    @ma.validates_schema
    def _changes_something(self, data, **kwargs):
        if not data:
            raise ma.ValidationError("Give at least one field to change.")


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

