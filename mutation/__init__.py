"""Mutation testing of server/clinical/ against tests/clinical/: `python -m mutation`."""
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EQUIVALENT_LIST = ROOT / "docs" / "mutation.md"
# The project's own top-level packages: what a fresh interpreter would import anew.
PROJECT_PACKAGES = ("server", "tests")


def drop_project_modules() -> None:
    """Forget the project's imported modules, so the next import runs them afresh."""
    for name in [name for name in sys.modules if name.split(".")[0] in PROJECT_PACKAGES]:
        del sys.modules[name]


def equivalent_mutants() -> set[str]:
    """The mutants docs/mutation.md lists as equivalent: the first cell of its table rows."""
    return set(re.findall(r"^\| `([^`]+)` \|", EQUIVALENT_LIST.read_text(), re.MULTILINE))
