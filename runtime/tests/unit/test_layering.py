"""The shape of the runtime's code, read with ast: imports run one way and core/ stays pure.

Every import counts, wherever it stands: at module level, inside a function
(a deferred import is how a cycle hides) or under ``if TYPE_CHECKING``.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent.parent.parent / "vrrpd"
PACKAGE = PACKAGE_DIR.name


def module_name(path: Path) -> str:
    """``vrrpd/config/kinds.py`` -> ``vrrpd.config.kinds``; a package is its ``__init__``."""
    parts = path.relative_to(PACKAGE_DIR.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules() -> dict[str, Path]:
    return {module_name(path): path for path in sorted(PACKAGE_DIR.rglob("*.py"))}


def _base(name: str, path: Path, node: ast.ImportFrom) -> str:
    """The absolute module an ``ImportFrom`` names (relative levels resolved)."""
    if node.level == 0:
        return node.module or ""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for _level in range(node.level - 1):
        package = package.rpartition(".")[0]
    return f"{package}.{node.module}" if node.module else package


def imported(name: str, path: Path) -> set[str]:
    """Every absolute module name ``name`` imports (within the package or not)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = _base(name, path, node)
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)
    return found


def internal_graph() -> dict[str, set[str]]:
    """Module -> the package's modules it imports.

    ``from .x import y`` is an edge to ``x`` (and to ``x.y`` when that is a
    module), not to the parent package: a submodule importing a sibling is
    not a cycle through the package's ``__init__``.
    """
    known = modules()
    graph: dict[str, set[str]] = {}
    for name, path in known.items():
        targets = {target for target in imported(name, path) if target in known and target != name}
        graph[name] = targets
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One cycle of ``graph`` as a path that comes back to its start, or None."""
    done: set[str] = set()
    stack: list[str] = []
    on_stack: set[str] = set()

    def visit(node: str) -> list[str] | None:
        stack.append(node)
        on_stack.add(node)
        for target in sorted(graph[node]):
            if target in on_stack:
                return stack[stack.index(target):] + [target]
            if target not in done and (cycle := visit(target)) is not None:
                return cycle
        on_stack.discard(stack.pop())
        done.add(node)
        return None

    for start in sorted(graph):
        if start not in done and (cycle := visit(start)) is not None:
            return cycle
    return None


def test_the_graph_sees_relative_deferred_and_type_checking_imports() -> None:
    graph = internal_graph()
    assert "vrrpd.config.lexer" in graph["vrrpd.config.kinds"]          # from .lexer import ...
    assert "vrrpd.actions.notify" in graph["vrrpd.config.checks"]       # from ..actions.notify
    assert "vrrpd.core.fsm" in graph["vrrpd.instance"]
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set(), "c": {"a", "b"}}) is None


def within(graph: dict[str, set[str]], prefix: str) -> dict[str, set[str]]:
    """The part of ``graph`` between modules whose name starts with ``prefix``."""
    return {name: {t for t in targets if t.startswith(prefix)}
            for name, targets in graph.items() if name.startswith(prefix)}


def test_imports_in_the_runtime_have_no_cycle() -> None:
    """daemon.py imports instance.py, switchover.py and metrics.py, which call it back through protocols."""
    cycle = find_cycle(internal_graph())
    assert cycle is None, "import cycle: " + " -> ".join(cycle or [])


def test_imports_in_the_config_package_have_no_cycle() -> None:
    cycle = find_cycle(within(internal_graph(), f"{PACKAGE}.config"))
    assert cycle is None, "import cycle: " + " -> ".join(cycle or [])


def test_config_modules_import_in_pipeline_order() -> None:
    """lexer -> statements -> kinds -> items -> schema -> parser -> loader, never backwards."""
    order = ["lexer", "statements", "kinds", "items", "schema", "parser", "loader"]
    graph = internal_graph()
    for rank, name in enumerate(order):
        later = {f"vrrpd.config.{other}" for other in order[rank + 1:]}
        assert not graph[f"vrrpd.config.{name}"] & later, name


def test_core_imports_only_the_standard_library() -> None:
    for name, path in modules().items():
        if not name.startswith(f"{PACKAGE}.core"):
            continue
        for target in imported(name, path):
            top = target.split(".")[0]
            assert top in sys.stdlib_module_names or target.startswith(f"{PACKAGE}.core"), \
                f"{name} imports {target}"


# --------------------------------------------------------------------------
# Function length: h11's longest is 64 lines; ours stay within 60.

MAX_FUNCTION_LINES = 60


def function_lengths(source: str) -> dict[str, int]:
    """``Class.method`` or ``function`` -> its lines, decorators and docstring included."""
    lengths: dict[str, int] = {}

    def visit(node: ast.AST, prefix: str) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                name = f"{prefix}{child.name}"
                if not isinstance(child, ast.ClassDef):
                    first = min([child.lineno, *(d.lineno for d in child.decorator_list)])
                    lengths[name] = (child.end_lineno or child.lineno) - first + 1
                visit(child, f"{name}.")
            else:
                visit(child, prefix)

    visit(ast.parse(source), "")
    return lengths


def test_function_lengths_are_measured_from_decorator_to_last_line() -> None:
    body = "    x = 1\n" * 59
    nested = "            x = 1\n" * 59
    source = f"@staticmethod\ndef f():\n{body}\nclass C:\n    async def g(self):\n        def h():\n{nested}"
    assert function_lengths(source) == {"f": 61, "C.g": 61, "C.g.h": 60}


def test_no_function_in_the_runtime_is_over_60_lines() -> None:
    too_long = [f"{name.removeprefix(PACKAGE + '.')}: {function} ({lines} lines)"
                for name, path in modules().items()
                for function, lines in function_lengths(path.read_text()).items()
                if lines > MAX_FUNCTION_LINES]
    assert not too_long, "\n".join(too_long)


# --------------------------------------------------------------------------
# Typed dispatch: every action class has its case, and the last case is assert_never.

def dispatched_classes(source: str, function: str) -> list[set[str]]:
    """For each ``match`` in ``function`` that ends with ``case _: assert_never(...)``, the classes it names."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if not (isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name == function):
            continue
        for match in (m for m in ast.walk(node) if isinstance(m, ast.Match)):
            last = match.cases[-1]
            call = last.body[0].value if isinstance(last.body[0], ast.Expr) else None
            if not (isinstance(last.pattern, ast.MatchAs) and last.pattern.pattern is None
                    and isinstance(call, ast.Call) and getattr(call.func, "id", "") == "assert_never"):
                continue
            found.append({pattern.cls.id for case in match.cases for pattern in ast.walk(case.pattern)
                          if isinstance(pattern, ast.MatchClass) and isinstance(pattern.cls, ast.Name)})
    return found


def test_the_instance_dispatches_every_action_and_job_exhaustively() -> None:
    """``fsm.Action`` in ``apply`` and ``instance.Job`` in ``_run``: a new class needs a case (mypy: assert_never)."""
    from typing import get_args

    from vrrpd.core.fsm import Action
    from vrrpd.instance import Job

    source = (PACKAGE_DIR / "instance.py").read_text()
    assert dispatched_classes(source, "apply") == [{cls.__name__ for cls in get_args(Action)}]
    assert dispatched_classes(source, "_run") == [{cls.__name__ for cls in get_args(Job)}]
