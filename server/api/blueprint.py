"""The API's blueprints: flask-smorest's, reading the JSON body the request already parsed."""
import flask_smorest
from webargs.flaskparser import FlaskParser

from server.errors import PARSED_BODY


class BodyOnceParser(FlaskParser):
    """webargs' parser, taking the body require_json_body parsed instead of parsing it again."""

    def _raw_load_json(self, req):
        if PARSED_BODY in req.environ:
            return req.environ[PARSED_BODY]
        return super()._raw_load_json(req)


class Blueprint(flask_smorest.Blueprint):
    """A flask-smorest blueprint whose arguments read the body parsed once per request."""

    ARGUMENTS_PARSER = BodyOnceParser()
