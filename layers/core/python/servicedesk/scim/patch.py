"""PATCH (RFC 7644 §3.5.2) applied to a resource's document: add, replace and remove, with
a path (``active``, ``name.givenName``, ``emails[type eq "work"].value``,
``members[value eq "…"]``) or without one (the value-object form Entra ID sends, whose
keys may themselves be paths). The result is then written like a PUT, so PATCH and PUT
share every check."""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from servicedesk.scim.errors import ScimError, invalid_path, invalid_value
from servicedesk.scim.filter import Compare, Logical, Node, Not, PatchPath, Present, parse_path
from servicedesk.scim.schemas import MAX_OPERATIONS, PATCH_SCHEMA

EXTENSION = "urn:"


def operations(body: Any) -> list[dict[str, Any]]:
    if not isinstance(body, dict):
        raise invalid_value("the body must be a PatchOp object")
    schemas = body.get("schemas")
    if not isinstance(schemas, list) or PATCH_SCHEMA not in schemas:
        raise invalid_value(f"schemas: must contain {PATCH_SCHEMA}")
    ops = body.get("Operations", body.get("operations"))
    if not isinstance(ops, list) or not ops:
        raise invalid_value("Operations: must be a non-empty list")
    if len(ops) > MAX_OPERATIONS:
        raise invalid_value(f"Operations: at most {MAX_OPERATIONS} in one request")
    for n, op in enumerate(ops):
        if not isinstance(op, dict):
            raise invalid_value(f"Operations[{n}]: must be an object")
        kind = op.get("op")
        if not isinstance(kind, str) or kind.lower() not in ("add", "replace", "remove"):
            raise invalid_value(f"Operations[{n}].op: must be add, replace or remove")
        if "path" in op and not isinstance(op["path"], str):
            raise invalid_path(f"Operations[{n}].path: must be a string")
    return ops


def matches(node: Node, item: Mapping[str, Any]) -> bool:
    """Whether one value of a multi-valued attribute matches a value filter."""
    if isinstance(node, Logical):
        left = matches(node.left, item)
        if node.op == "and":
            return left and matches(node.right, item)
        return left or matches(node.right, item)
    if isinstance(node, Not):
        return not matches(node.inner, item)
    lowered = {str(k).lower(): v for k, v in item.items()}
    if isinstance(node, Present):
        return lowered.get(node.path) not in (None, "", [])
    if isinstance(node, Compare):
        return _compare(node, lowered.get(node.path))
    raise invalid_path("a value path inside a value path")


def _compare(node: Compare, actual: Any) -> bool:
    expected = node.value
    if isinstance(actual, str) and isinstance(expected, str):
        actual, expected = actual.lower(), expected.lower()
        return bool(
            {
                "eq": actual == expected,
                "ne": actual != expected,
                "co": expected in actual,
                "sw": actual.startswith(expected),
                "ew": actual.endswith(expected),
                "gt": actual > expected,
                "ge": actual >= expected,
                "lt": actual < expected,
                "le": actual <= expected,
            }[node.op]
        )
    if node.op in ("eq", "ne"):
        return bool(actual == expected) == (node.op == "eq")
    return False


def _template(node: Node) -> dict[str, Any]:
    """The value a filter describes by equality (``type eq "work"``): what a new element
    starts from when ``replace emails[type eq "work"].value`` finds none."""
    if isinstance(node, Compare) and node.op == "eq":
        return {node.path: node.value}
    if isinstance(node, Logical) and node.op == "and":
        return {**_template(node.left), **_template(node.right)}
    return {}


def _identity(item: Any) -> str:
    """What tells two values of a multi-valued attribute apart: their ``value``."""
    if isinstance(item, dict):
        return str(item.get("value", "")).lower()
    return str(item).lower()


class Document:
    """A resource's writable attributes under their canonical names; ``keys`` maps each
    lower-cased name (and, for complex ones, sub-attribute) to its canonical spelling."""

    def __init__(
        self,
        data: dict[str, Any],
        *,
        keys: Mapping[str, str],
        subs: Mapping[str, Mapping[str, str]],
        multi: frozenset[str],
        ignored: frozenset[str],
    ) -> None:
        self.data = copy.deepcopy(data)
        self.keys, self.subs, self.multi, self.ignored = keys, subs, multi, ignored

    def apply(self, ops: list[dict[str, Any]]) -> dict[str, Any]:
        for op in ops:
            kind = str(op["op"]).lower()
            path = op.get("path")
            value = op.get("value")
            if path is None or path == "":
                if kind == "remove":
                    raise ScimError(400, "Operations.path: remove needs a path", "noTarget")
                if not isinstance(value, dict):
                    raise invalid_value("Operations.value: without a path it must be an object")
                for key, item in value.items():
                    self.one(kind, str(key), item)
            else:
                self.one(kind, path, value)
        return self.data

    def one(self, kind: str, raw_path: str, value: Any) -> None:
        if raw_path.lower().startswith(EXTENSION) and not raw_path.lower().startswith(
            "urn:ietf:params:scim:schemas:core:2.0:"
        ):
            return  # an extension schema's attribute: not stored
        path = parse_path(raw_path)
        if path.attribute in self.ignored:
            return
        name = self.keys.get(path.attribute)
        if name is None:
            raise invalid_path(f"path: unknown attribute {raw_path}")
        if path.value_filter is not None:
            self.filtered(kind, name, path, value)
        elif path.sub is not None:
            self.sub(kind, name, path.sub, value)
        elif name in self.multi:
            self.whole(kind, name, value)
        elif kind == "remove":
            self.data.pop(name, None)
        elif kind == "add" and isinstance(value, dict) and isinstance(self.data.get(name), dict):
            self.data[name] = {**self.data[name], **value}
        else:
            self.data[name] = value

    def whole(self, kind: str, name: str, value: Any) -> None:
        """A multi-valued attribute without a filter: add appends what is new, replace
        sets the list, remove drops the values given (Entra ID's
        ``{"op": "Remove", "path": "members", "value": [{"value": "<id>"}]}``) or, with
        no value, all of them."""
        items = value if isinstance(value, list) else [] if value is None else [value]
        current = list(self.data.get(name) or [])
        if kind == "remove":
            gone = {_identity(item) for item in items}
            self.data[name] = [i for i in current if value is not None and _identity(i) not in gone]
        elif kind == "add":
            known = {_identity(item) for item in current}
            self.data[name] = current + [i for i in items if _identity(i) not in known]
        else:
            self.data[name] = items

    def sub(self, kind: str, name: str, sub: str, value: Any) -> None:
        canonical = self.subs.get(name, {}).get(sub)
        if canonical is None or name in self.multi:
            raise invalid_path(f"path: unknown attribute {name}.{sub}")
        current = dict(self.data.get(name) or {})
        if kind == "remove":
            current.pop(canonical, None)
        else:
            current[canonical] = value
        self.data[name] = current

    def filtered(self, kind: str, name: str, path: PatchPath, value: Any) -> None:
        if name not in self.multi:
            raise invalid_path(f"path: {name} is not multi-valued")
        assert path.value_filter is not None
        items = [dict(i) for i in (self.data.get(name) or []) if isinstance(i, dict)]
        hits = [n for n, item in enumerate(items) if matches(path.value_filter, item)]
        canonical = None
        if path.sub is not None:
            canonical = self.subs.get(name, {}).get(path.sub)
            if canonical is None:
                raise invalid_path(f"path: unknown attribute {name}.{path.sub}")
        if kind == "remove":
            if canonical is None:
                items = [item for n, item in enumerate(items) if n not in hits]
            else:
                for n in hits:
                    items[n].pop(canonical, None)
        elif not hits:
            items.append(self._new_value(name, path.value_filter, canonical, value))
        else:
            for n in hits:
                items[n] = self._changed_value(name, items[n], kind, canonical, value)
        self.data[name] = items

    def _new_value(
        self, name: str, node: Node, canonical: str | None, value: Any
    ) -> dict[str, Any]:
        """``replace emails[type eq "work"].value`` when there is no work address: add one
        (what Entra ID means by it)."""
        subs = self.subs.get(name, {})
        base = {subs.get(k, k): v for k, v in _template(node).items()}
        if canonical is not None:
            return {**base, canonical: value}
        if isinstance(value, dict):
            return {**base, **value}
        raise invalid_value(f"{name}: the value must be an object")

    @staticmethod
    def _changed_value(
        name: str, item: dict[str, Any], kind: str, canonical: str | None, value: Any
    ) -> dict[str, Any]:
        if canonical is not None:
            return {**item, canonical: value}
        if isinstance(value, dict):
            return {**item, **value} if kind == "add" else dict(value)
        raise invalid_value(f"{name}: the value must be an object")
