"""Which routes can answer 412/428: found by reading the code, not by a hand list.

A route can answer 428 when its call graph reaches ``versioning.expected_version`` or
``versioning.check_etag`` (the version is required), and 412 when it reaches
``check_version`` or ``check_etag`` (or raises either problem itself). The graph follows
calls by name through the ``servicedesk`` modules the endpoint's module imports; the
OpenAPI document declares what it finds, and a test holds every route to it. An endpoint
made by a factory around a service function it is given (``platform.endpoints.Resource``)
names that function in ``CALLS``, and the walk starts there too.
"""

from __future__ import annotations

import ast
import inspect
import sys
import textwrap
from collections.abc import Callable
from functools import cache
from types import ModuleType
from typing import Any

PACKAGE = "servicedesk."
CALLS = "__servicedesk_calls__"
VERSIONING = "servicedesk.platform.versioning"
ERRORS = "servicedesk.platform.errors"
# (module, function or class) -> the statuses reaching it can produce.
SOURCES: dict[tuple[str, str], frozenset[int]] = {
    (VERSIONING, "expected_version"): frozenset({428}),
    (VERSIONING, "check_version"): frozenset({412}),
    (VERSIONING, "check_etag"): frozenset({412, 428}),
    (ERRORS, "PreconditionFailed"): frozenset({412}),
    (ERRORS, "PreconditionRequired"): frozenset({428}),
}


@cache
def _module_tree(name: str) -> tuple[dict[str, ast.AST], dict[str, tuple[str, str | None]]]:
    """A module's top-level functions and what each imported name refers to:
    (module, attribute) for ``from m import a``, (module, None) for a module."""
    module = sys.modules.get(name)
    if module is None:
        return {}, {}
    try:
        tree = ast.parse(inspect.getsource(module))
    except (OSError, TypeError):
        return {}, {}
    functions: dict[str, ast.AST] = {}
    imports: dict[str, tuple[str, str | None]] = {}
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            functions[node.name] = node
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for alias in node.names:
                full = f"{node.module}.{alias.name}"
                target = (full, None) if full in sys.modules else (node.module, alias.name)
                imports[alias.asname or alias.name] = target
        elif isinstance(node, ast.Import):
            for alias in node.names:
                imports[alias.asname or alias.name.split(".")[0]] = (alias.name, None)
    return functions, imports


def _callee(node: ast.AST, module: str) -> tuple[str, str] | None:
    """The (module, name) a call or reference resolves to, if it is in our package."""
    functions, imports = _module_tree(module)
    if isinstance(node, ast.Name):
        if node.id in functions:
            return module, node.id
        target = imports.get(node.id)
        if target and target[1] is not None:
            return target[0], target[1]
    elif isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
        target = imports.get(node.value.id)
        if target and target[1] is None:
            return target[0], node.attr
    return None


def statuses(endpoint: Callable[..., Any]) -> frozenset[int]:
    """The precondition statuses (412, 428) the endpoint's call graph can produce."""
    module: ModuleType | None = inspect.getmodule(endpoint)
    if module is None:
        return frozenset()
    found: set[int] = set()
    for called in getattr(endpoint, CALLS, ()):
        found |= statuses(called)
    seen: set[tuple[str, str]] = set()
    pending = [(module.__name__, endpoint.__name__)]
    if endpoint.__name__ not in _module_tree(module.__name__)[0]:
        # Made by a factory (platform.settings_routes): start from its own body.
        pending = _calls(_own_node(endpoint), module.__name__)
    while pending:
        where = pending.pop()
        if where in seen or not where[0].startswith(PACKAGE):
            continue
        seen.add(where)
        found |= SOURCES.get(where, frozenset())
        pending += _calls(_module_tree(where[0])[0].get(where[1]), where[0])
    return frozenset(found)


def _calls(node: ast.AST | None, module: str) -> list[tuple[str, str]]:
    """What a function body calls or refers to in our package."""
    targets: list[tuple[str, str]] = []
    for child in ast.walk(node) if node is not None else ():
        if isinstance(child, (ast.Call, ast.Name, ast.Attribute)):
            target = _callee(child.func if isinstance(child, ast.Call) else child, module)
            if target is not None:
                targets.append(target)
    return targets


def _own_node(function: Callable[..., Any]) -> ast.AST | None:
    try:
        return ast.parse(textwrap.dedent(inspect.getsource(function))).body[0]
    except (OSError, TypeError, SyntaxError):
        return None
