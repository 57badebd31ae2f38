"""The served document and the tools that read it: the npm packages under clients/typescript."""
import json
import os
import subprocess
from pathlib import Path

from server import create_app
from tests.builders import TEST_SETTINGS
from tests.contract import responses

ROOT = Path(__file__).resolve().parents[2]
TYPESCRIPT_CLIENT = ROOT / "clients" / "typescript"
NODE_BIN = TYPESCRIPT_CLIENT / "node_modules" / ".bin"
# Redocly and npm would otherwise phone home for telemetry and update notices.
QUIET_NODE = {"REDOCLY_TELEMETRY": "off", "REDOCLY_SUPPRESS_UPDATE_NOTICE": "true", "NO_UPDATE_NOTIFIER": "1"}


def served_document(app=None):
    """The OpenAPI document as /api/openapi.json serves it, parsed; from an app that touches no
    database when none is given."""
    return responses.served_document(
        app or create_app({**TEST_SETTINGS, "SQLALCHEMY_DATABASE_URI": "sqlite://"})
    )


def write_document(document, folder):
    """The document saved as openapi.json in the folder; returns its path."""
    path = Path(folder) / "openapi.json"
    path.write_text(json.dumps(document, indent=2))
    return path


def node_tool(name):
    """The path of an installed npm tool; fails with how to install it when it is missing."""
    path = NODE_BIN / name
    assert path.exists(), f"{path} is missing: run `make install` (npm ci in clients/typescript)"
    return path


def run_tool(command, cwd=ROOT, timeout=300, **env):
    """Run a command to completion with a quiet Node environment: the CompletedProcess."""
    return subprocess.run(
        [str(part) for part in command],
        cwd=cwd,
        env={**os.environ, **QUIET_NODE, **env},
        capture_output=True,
        text=True,
        timeout=timeout,
    )
