"""Contract tests: the OpenAPI document checked by linters, by Schemathesis and by the clients
generated from it; `responses` holds every response of the suite to the document."""
from tests.contract.responses import ContractClient

__all__ = ["ContractClient"]
