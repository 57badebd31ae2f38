"""The questionnaires the app can render."""
from flask.views import MethodView
from server.api.blueprint import Blueprint

from schemas.instruments import InstrumentSchema
from server.api.guards import signed_in
from server.clinical.instruments import INSTRUMENTS, get_instrument
from server.errors import NotFound

blp = Blueprint(
    "instruments", __name__, url_prefix="/api/v1/instruments", description="Questionnaires"
)


@blp.route("")
class Instruments(MethodView):
    @signed_in
    @blp.response(200, InstrumentSchema(many=True))
    @blp.doc(operationId="listInstruments")
    def get(self):
        """Every instrument definition."""
        return list(INSTRUMENTS.values())


@blp.route("/<string(maxlength=32):code>")
class InstrumentByCode(MethodView):
    @signed_in
    @blp.response(200, InstrumentSchema)
    @blp.doc(operationId="getInstrument")
    def get(self, code):
        """One instrument definition with its items in order."""
        instrument = get_instrument(code)
        if instrument is None:
            raise NotFound("Instrument not found.")
        return instrument
