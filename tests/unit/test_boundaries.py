"""Import rules between the packages of servicedesk/ (docs/architecture.md, "Boundaries").

import-linter is not installed in the project's environment, so the contracts are checked
here with the standard library: every module under servicedesk/ is parsed (imports inside
functions included) and the import graph is checked against three rules.

1. ``platform`` imports no domain package.
2. No module reaches another package's private names (``from x import _name``, or
   ``module._name`` on a module of another package).
3. The domain packages import each other without a cycle.
"""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LAYER = ROOT / "layers" / "core" / "python"
PLATFORM = "platform"


@dataclass(frozen=True)
class Use:
    """``module`` uses ``name`` of ``target`` (a module; name None for a whole module)."""

    module: str
    target: str
    name: str | None
    line: int


def package_of(module: str) -> str:
    """``servicedesk.tickets.service`` -> ``tickets``; the root package -> ``""``."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def _absolute(node: ast.ImportFrom, here: str) -> str:
    """The module ``node`` imports from, relative imports resolved against ``here``."""
    base = node.module or ""
    if not node.level:
        return base
    anchor = here.rsplit(".", node.level - 1)[0] if node.level > 1 else here
    return f"{anchor}.{base}" if base else anchor


def _ours(module: str) -> bool:
    return module == "servicedesk" or module.startswith("servicedesk.")


def uses(module: str, source: str, *, is_package: bool = False) -> Iterator[Use]:
    """What ``module`` imports from servicedesk, and the attributes it reads off those."""
    tree = ast.parse(source)
    aliases: dict[str, str] = {}
    here = module if is_package else module.rpartition(".")[0]
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and _ours(base := _absolute(node, here)):
            for alias in node.names:
                yield Use(module, base, alias.name, node.lineno)
                aliases[alias.asname or alias.name] = f"{base}.{alias.name}"
        elif isinstance(node, ast.Import):
            for alias in (a for a in node.names if _ours(a.name)):
                yield Use(module, alias.name, None, node.lineno)
                if alias.asname:
                    aliases[alias.asname] = alias.name
    for node in ast.walk(tree):
        owner = node.value if isinstance(node, ast.Attribute) else None
        if isinstance(node, ast.Attribute) and isinstance(owner, ast.Name) and owner.id in aliases:
            yield Use(module, aliases[owner.id], node.attr, node.lineno)


def _private(name: str | None) -> bool:
    return name is not None and name.startswith("_") and not name.startswith("__")


def target_package(use: Use) -> str:
    """The package ``use`` reaches (``from servicedesk import tickets`` reaches tickets)."""
    return package_of(use.target) or (use.name or "")


def platform_reaching_domains(found: list[Use]) -> list[Use]:
    return [
        u
        for u in found
        if package_of(u.module) == PLATFORM and target_package(u) not in ("", PLATFORM)
    ]


def private_reaches(found: list[Use]) -> list[Use]:
    """Another package's ``_name``, or a ``_module`` of another package."""
    return [
        u
        for u in found
        if package_of(u.module) != package_of(u.target)
        and package_of(u.target) != ""
        and (_private(u.name) or any(_private(part) for part in u.target.split(".")))
    ]


def domain_graph(found: list[Use]) -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {}
    for u in found:
        source, target = package_of(u.module), target_package(u)
        if source in ("", PLATFORM) or target in ("", PLATFORM) or source == target:
            continue
        graph.setdefault(source, set()).add(target)
    return graph


def cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One cycle of ``graph`` (its packages in order, the first repeated last), or None."""
    done: set[str] = set()

    def visit(node: str, path: list[str]) -> list[str] | None:
        if node in path:
            return [*path[path.index(node) :], node]
        if node in done:
            return None
        for nxt in sorted(graph.get(node, ())):
            found = visit(nxt, [*path, node])
            if found:
                return found
        done.add(node)
        return None

    for start in sorted(graph):
        found = visit(start, [])
        if found:
            return found
    return None


def _layer_uses() -> list[Use]:
    found: list[Use] = []
    for path in sorted((LAYER / "servicedesk").rglob("*.py")):
        parts = path.relative_to(LAYER).with_suffix("").parts
        is_package = parts[-1] == "__init__"
        module = ".".join(parts[:-1] if is_package else parts)
        found += uses(module, path.read_text(), is_package=is_package)
    return found


@pytest.fixture(scope="module")
def layer_uses() -> list[Use]:
    found = _layer_uses()
    # The walker sees the imports it must judge, in functions too (a broken walker that
    # found nothing would pass every rule below).
    seen = {(u.module, u.target) for u in found}
    assert ("servicedesk.tickets.service", "servicedesk.sla.engine") in seen
    assert ("servicedesk.realtime.service", "servicedesk.tickets.permissions") in seen
    return found


def _where(found: list[Use]) -> list[str]:
    return [f"{u.module}:{u.line} -> {u.target} {u.name or ''}".strip() for u in found]


def test_platform_imports_no_domain(layer_uses: list[Use]) -> None:
    assert _where(platform_reaching_domains(layer_uses)) == []


def test_no_module_reaches_another_packages_private_names(layer_uses: list[Use]) -> None:
    assert _where(private_reaches(layer_uses)) == []


def test_the_domain_packages_import_each_other_without_a_cycle(layer_uses: list[Use]) -> None:
    graph = domain_graph(layer_uses)
    assert "sla" in graph["tickets"]
    assert cycle(graph) is None, " -> ".join(cycle(graph) or [])


def test_only_notifications_touches_the_suppression_list() -> None:
    owners = {
        path.relative_to(LAYER / "servicedesk").parts[0]
        for path in (LAYER / "servicedesk").rglob("*.py")
        if "email_suppressions" in path.read_text()
    }
    assert owners == {"notifications"}


def test_the_rules_catch_what_they_forbid() -> None:
    """Each rule on a small made-up package, so none of them passes by construction."""
    sources = {
        "servicedesk.platform.context": "def f():\n    from servicedesk.identity import x\n",
        "servicedesk.platform.db": "import servicedesk.tickets.models\n",
        "servicedesk.platform.app": "from servicedesk import tickets\n",
        "servicedesk.attachments.service": (
            "from servicedesk.tickets.comments import _may_comment\n"
            "from servicedesk.tickets import service\n"
            "service._notify()\n"
        ),
        "servicedesk.tickets.service": "from servicedesk.sla import engine\n",
        "servicedesk.sla.routes": "from servicedesk.tickets.service import get_visible\n",
        "servicedesk.tickets.comments": "from servicedesk.tickets import service\nservice._x\n",
    }
    found = [u for module, source in sources.items() for u in uses(module, source)]
    reaching = {u.module for u in platform_reaching_domains(found)}
    assert reaching == {
        "servicedesk.platform.context",
        "servicedesk.platform.db",
        "servicedesk.platform.app",
    }
    assert [(u.target, u.name) for u in private_reaches(found)] == [
        ("servicedesk.tickets.comments", "_may_comment"),
        ("servicedesk.tickets.service", "_notify"),
    ]
    assert cycle(domain_graph(found)) in (
        ["sla", "tickets", "sla"],
        ["tickets", "sla", "tickets"],
    )
    relative = list(uses("servicedesk.tickets.comments", "from .service import _notify\n"))
    assert [(u.target, u.name) for u in relative] == [("servicedesk.tickets.service", "_notify")]


# --- external sign-in is wired at every entry point that authenticates -------------------

# The API functions (those with routers) and the WebSocket $connect resolve principals.
AUTHENTICATING = sorted(
    path.parent.name
    for path in (ROOT / "functions").glob("*/handler.py")
    if "\nrouters = " in path.read_text() or path.parent.name == "ws_connect"
)

_PROBE = """
import importlib.util, sys
spec = importlib.util.spec_from_file_location("handler", sys.argv[1])
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
from servicedesk.platform import tenancy
print(len(tenancy._external))
"""


def test_the_authenticating_functions_are_the_api_and_connect() -> None:
    assert AUTHENTICATING == [
        "admin",
        "approvals",
        "assistant",
        "attachments",
        "automation",
        "cmdb",
        "exports",
        "graphql",
        "identity",
        "kb",
        "macros",
        "mail",
        "notifications",
        "projects",
        "reports",
        "scim",
        "tickets",
        "webhooks",
        "ws_connect",
    ]


@pytest.mark.parametrize("function", AUTHENTICATING)
def test_the_function_accepts_external_issuers_tokens(function: str) -> None:
    """platform.tenancy resolves external claims through what identity installs; a
    function that does not load identity.provisioning would refuse every such token."""
    handler = ROOT / "functions" / function / "handler.py"
    done = subprocess.run(
        [sys.executable, "-c", _PROBE, str(handler)],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(LAYER)},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "1"
