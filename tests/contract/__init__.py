"""Contract tests: the OpenAPI document checked by linters and by the clients generated from it."""
