"""The constants mutator: the numbers mutmut leaves alone, each changed and tested afresh.

mutmut mutates function bodies only. Here every integer and float that server/clinical/ evaluates
at import (module and class level, default values, and the bodies of the module's own functions
its top level calls, such as the protocol builders) is changed by +-1 or +-0.01: each MIC, SEM,
band edge, range edge, time point and window. Each mutant runs tests/clinical/ in a forked child
of a process that holds the third-party imports but none of the project, so the project is
imported afresh, as in a new interpreter, with the mutated module compiled from its new source.
"""
import ast
import importlib.machinery
import importlib.util
import os
import signal
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from mutation import ROOT, drop_project_modules

PACKAGE = ROOT / "server" / "clinical"
PYTEST_ARGS = ["-x", "-q", "-p", "no:cacheprovider", "tests/clinical"]
TIMEOUT_SECONDS = 120
# pytest exit codes: tests failed, interrupted (a collection error), internal error, usage error
# (conftest failed to import) all mean the mutant was caught.
CAUGHT = {1, 2, 3, 4}


@dataclass(frozen=True)
class Mutant:
    """One number in one module changed, and the module's source with the change."""

    path: Path
    line: int
    column: int
    old: str
    new: str
    source: str

    @property
    def module(self) -> str:
        """The dotted module name, as imported."""
        return ".".join(self.path.relative_to(ROOT).with_suffix("").parts)

    @property
    def name(self) -> str:
        """Where the number is and what it became, as docs/mutation.md lists it."""
        return f"{self.path.relative_to(ROOT)}:{self.line}:{self.column}: {self.old} -> {self.new}"


class _AtImport(ast.NodeVisitor):
    """Collects the number literals a module evaluates at import."""

    def __init__(self, functions_run: set[str]):
        self.functions_run = functions_run
        self.numbers: list[ast.Constant] = []
        self.calls: set[str] = set()

    def visit_FunctionDef(self, node):
        for expression in node.decorator_list + node.args.defaults + node.args.kw_defaults:
            if expression is not None:
                self.visit(expression)
        if node.name in self.functions_run:
            for statement in node.body:
                self.visit(statement)

    visit_AsyncFunctionDef = visit_FunctionDef

    def visit_Lambda(self, node):
        for expression in node.args.defaults + node.args.kw_defaults:
            if expression is not None:
                self.visit(expression)

    def visit_Call(self, node):
        if isinstance(node.func, ast.Name):
            self.calls.add(node.func.id)
        self.generic_visit(node)

    def visit_Constant(self, node):
        if type(node.value) in (int, float):
            self.numbers.append(node)


def numbers_at_import(tree: ast.Module) -> list[ast.Constant]:
    """The number literals outside function bodies and in the functions called at import."""
    top_level = _AtImport(set())
    top_level.visit(tree)
    with_called = _AtImport(top_level.calls)
    with_called.visit(tree)
    return with_called.numbers


def _changed(value: int | float) -> tuple[int | float, ...]:
    """The values a number is changed to: +-1 for an integer, +-0.01 for a float."""
    if isinstance(value, int):
        return value - 1, value + 1
    return round(value - 0.01, 10), round(value + 0.01, 10)


def mutants_of(path: Path) -> Iterator[Mutant]:
    """Every mutant of one module, in source order."""
    source = path.read_text()
    lines = source.encode().splitlines(keepends=True)  # ast's column offsets count UTF-8 bytes
    numbers = sorted(numbers_at_import(ast.parse(source)), key=lambda n: (n.lineno, n.col_offset))
    for node in numbers:
        line = lines[node.lineno - 1]
        for value in _changed(node.value):
            new = (repr(value) if value >= 0 else f"({value!r})").encode()
            mutated = line[: node.col_offset] + new + line[node.end_col_offset :]
            yield Mutant(
                path, node.lineno, node.col_offset + 1, repr(node.value), repr(value),
                b"".join(lines[: node.lineno - 1] + [mutated] + lines[node.lineno :]).decode(),
            )


class _MutatedModule(importlib.machinery.SourceFileLoader):
    """Loads one module from a mutant's source instead of its file."""

    def __init__(self, mutant: Mutant):
        super().__init__(mutant.module, str(mutant.path))
        self.mutant = mutant

    def find_spec(self, name, path=None, target=None):
        """The mutated module's spec; None for every other module."""
        if name != self.mutant.module:
            return None
        return importlib.util.spec_from_file_location(name, self.mutant.path, loader=self)

    def get_code(self, fullname):
        """The mutant compiled afresh: never read from or written to a bytecode cache."""
        return compile(self.mutant.source, self.path, "exec", dont_inherit=True)


@contextmanager
def _silenced():
    """Standard output and error, down to the file descriptors, sent to /dev/null."""
    sys.stdout.flush()
    sys.stderr.flush()
    saved = os.dup(1), os.dup(2)
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    os.dup2(devnull, 2)
    try:
        yield
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os.dup2(saved[0], 1)
        os.dup2(saved[1], 2)
        for fd in (*saved, devnull):
            os.close(fd)


def run_tests(mutant: Mutant | None) -> int:
    """pytest's exit code for tests/clinical with the project imported afresh and the mutant in."""
    pid = os.fork()
    if pid == 0:
        code = 70
        try:
            signal.alarm(TIMEOUT_SECONDS)
            if mutant is not None:
                sys.meta_path.insert(0, _MutatedModule(mutant))
            with _silenced():
                code = int(pytest.main(PYTEST_ARGS))
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status)


def prepare(pycache: Path) -> None:
    """Import the project once for its third-party imports, then forget the project itself."""
    os.chdir(ROOT)
    # Cache bytecode under pycache, a scratch folder, whatever the environment says: each mutant
    # imports the project afresh, and compiling it each time would cost most of the run.
    sys.pycache_prefix, sys.dont_write_bytecode = str(pycache), False
    with _silenced():
        collected = pytest.main(["--collect-only", *PYTEST_ARGS])
    if collected != 0:
        raise SystemExit("tests/clinical cannot be collected")
    drop_project_modules()
    if run_tests(None) != 0:
        raise SystemExit("tests/clinical fails without any mutant")


def _status(code: int) -> str:
    """A test run's exit code as mutmut names its statuses."""
    if code in CAUGHT:
        return "killed"
    if code == -signal.SIGALRM:
        return "timeout"
    return {0: "survived", 5: "no tests"}.get(code, f"error {code}")


def results(pycache: Path) -> dict[str, tuple[str, str]]:
    """Each mutant's status and module, by mutant name."""
    prepare(pycache)
    found = {}
    for path in sorted(PACKAGE.glob("*.py")):
        for mutant in mutants_of(path):
            found[mutant.name] = (_status(run_tests(mutant)), mutant.module)
    return found
