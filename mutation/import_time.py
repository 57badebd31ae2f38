"""A pytest plugin for mutmut: mutants of code that runs at import run in freshly imported code.

mutmut forks each mutant's test run from a process that has imported the project already, so a
function called while modules are imported (the protocol builders) would never run its mutant,
and mutmut would credit it to the first test alone. During the stats run this plugin notes those
functions; a mutant of one of them drops the project's modules, so its run imports them afresh as
a new interpreter would, and every test counts as covering it.
"""
import json
import os
from pathlib import Path

import pytest

from mutation import drop_project_modules

# In the working directory, mutmut's mutants/, beside mutmut's own stats.
CALLED_AT_IMPORT = Path("called-at-import.json")
_seen_at_import: set[str] = set()


def _mutant_under_test() -> str:
    """The mutant mutmut is testing, 'stats' during its stats run, '' otherwise."""
    return os.environ.get("MUTANT_UNDER_TEST", "")


def _calls() -> set[str]:
    """The functions mutmut saw called since the last test ended."""
    from mutmut.state import state

    return state()._stats


@pytest.hookimpl(tryfirst=True)
def pytest_load_initial_conftests(early_config, parser, args):
    """Before conftest imports the project: drop it when the mutant's function runs at import."""
    function = _mutant_under_test().rpartition("__mutmut_")[0]
    if function and CALLED_AT_IMPORT.exists():
        if function in json.loads(CALLED_AT_IMPORT.read_text()):
            drop_project_modules()


def pytest_collection_finish(session):
    """During the stats run, note what ran while conftest and the test modules were imported."""
    if _mutant_under_test() == "stats":
        _seen_at_import.update(_calls())
        CALLED_AT_IMPORT.write_text(json.dumps(sorted(_seen_at_import)))


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_teardown(item):
    """During the stats run, credit the import-time calls to every test before mutmut reads them."""
    if _mutant_under_test() == "stats":
        _calls().update(_seen_at_import)


def pytest_sessionfinish(session, exitstatus):
    """A mutant that breaks an import is caught: count the collection error as a failure."""
    if "__mutmut_" in _mutant_under_test() and session.testsfailed:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
