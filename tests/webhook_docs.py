"""What docs/webhooks.md gives integrators, loaded for the tests: its verification recipe,
exactly as documented, and its test vectors."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

DOC = (Path(__file__).resolve().parents[1] / "docs" / "webhooks.md").read_text()


def _doc_block(marker: str, language: str) -> str:
    match = re.search(rf"<!-- {marker} -->\s*```{language}\n(.*?)```", DOC, re.S)
    assert match, f"docs/webhooks.md lost its {marker} block"
    return match.group(1)


# The integrators' recipe, exactly as documented.
_recipe: dict[str, Any] = {}
exec(compile(_doc_block("recipe", "python"), "docs/webhooks.md#recipe", "exec"), _recipe)
recipe_verify = _recipe["verify_servicedesk_signature"]
VECTORS: list[dict[str, Any]] = json.loads(_doc_block("test-vectors", "json"))
