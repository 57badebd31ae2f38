"""The Blueprint every API module uses: flask-smorest's, reading arguments strictly and the JSON
body the request already parsed."""
import flask_smorest
import marshmallow as ma
from webargs.core import missing
from webargs.flaskparser import FlaskParser

from server.errors import PARSED_BODY


class StrictParser(FlaskParser):
    """webargs' parser refusing what it would otherwise read loosely.

    A query parameter that takes one value but comes twice is refused, not read as its first
    value; a request without the JSON body its operation declares is refused, not read as {}.
    The body is the one require_json_body parsed, not parsed again.
    """

    def _raw_load_json(self, req):
        if PARSED_BODY in req.environ:
            return req.environ[PARSED_BODY]
        return super()._raw_load_json(req)

    def load_querystring(self, req, schema):
        """The query string, refusing a repeated parameter that takes one value."""
        proxy = super().load_querystring(req, schema)
        names = {field.data_key or name for name, field in schema.fields.items()}
        repeated = sorted(
            name
            for name in names - proxy.multiple_keys
            if len(req.args.getlist(name)) > 1
        )
        if repeated:
            raise ma.ValidationError({name: ["Give this parameter once."] for name in repeated})
        return proxy

    def load_json(self, req, schema):
        """The JSON body, refusing a request without one."""
        body = super().load_json(req, schema)
        if body is missing:
            raise ma.ValidationError({"_schema": ["A JSON body is required."]})
        return body


class Blueprint(flask_smorest.Blueprint):
    """A flask-smorest Blueprint whose arguments go through StrictParser."""

    ARGUMENTS_PARSER = StrictParser()
