"""The web rule editor (web/src/admin/ruleForm.ts) offers the whole grammar the API accepts:
every condition field and operator by kind, every trigger, action, assignment strategy and
recipient, the settable fields, the nesting depth. A new field, operator or action on the
server fails this test until the editor offers it too."""

from __future__ import annotations

import re
import typing
from pathlib import Path

from servicedesk.actions import schemas as actions
from servicedesk.automation import conditions
from servicedesk.automation import schemas as automation
from servicedesk.tickets import schemas as tickets
from servicedesk.tickets import states

RULE_FORM = Path(__file__).resolve().parents[2] / "web" / "src" / "admin" / "ruleForm.ts"
SOURCE = RULE_FORM.read_text()


def _array(name: str) -> list[str]:
    match = re.search(rf"export const {name} = \[(.*?)\]( as const)?;", SOURCE, re.S)
    assert match, f"ruleForm.ts lost {name}"
    return re.findall(r'"(\w+)"', match.group(1))


def _kind_ops() -> dict[str, set[str]]:
    change = set(re.findall(r'"(\w+)"', re.search(r"const CHANGE = \[(.*?)\];", SOURCE).group(1)))  # type: ignore[union-attr]
    block = re.search(r"KIND_OPS: Record<Kind, string\[\]> = \{(.*?)\n\};", SOURCE, re.S)
    assert block, "ruleForm.ts lost KIND_OPS"
    found: dict[str, set[str]] = {}
    for kind, ops in re.findall(r"(\w+): \[(.*?)\],", block.group(1), re.S):
        found[kind] = set(re.findall(r'"(\w+)"', ops)) | (change if "...CHANGE" in ops else set())
    return found


def _literal(annotation: typing.Any) -> set[str]:
    return {a for a in typing.get_args(annotation) if isinstance(a, str)}


def test_every_condition_field_and_operator() -> None:
    block = re.search(r"export const FIELDS: .*? = \{(.*?)\n\};", SOURCE, re.S)
    assert block
    web_fields = dict(re.findall(r"(\w+): \{ kind: \"(\w+)\"", block.group(1)))
    assert '[CUSTOM]: { kind: "custom"' in block.group(1)
    assert web_fields == {name: spec[0] for name, spec in conditions.FIELDS.items()}
    assert _kind_ops() == {kind: set(ops) for kind, ops in conditions.KIND_OPS.items()}
    assert int(re.search(r"export const MAX_DEPTH = (\d+);", SOURCE).group(1)) == (  # type: ignore[union-attr]
        conditions.MAX_DEPTH
    )


def test_every_value_list() -> None:
    assert _array("STATUSES") == [s.value for s in states.Status]
    assert tuple(_array("LEVELS")) == conditions.LEVELS
    assert set(_array("CHANNELS")) == _literal(tickets.Channel)


def test_every_trigger_and_its_fields() -> None:
    assert set(_array("TRIGGER_EVENTS")) == _literal(automation.TriggerEvent)
    named = re.search(
        r"\^\((.*?)\|custom_fields", str(automation.FieldName.__metadata__[0].pattern)
    )  # type: ignore[attr-defined]
    assert named
    assert set(_array("TRIGGER_FIELDS")) == set(named.group(1).split("|"))


def test_every_action_strategy_recipient_and_settable_field() -> None:
    union = typing.get_args(typing.get_args(actions.Action)[0])
    types = {typing.get_args(model.model_fields["type"].annotation)[0] for model in union}
    assert set(_array("ACTION_TYPES")) == types
    # current_user is refused in a rule: no person applies it.
    assert set(_array("ASSIGNEE_RULES")) == _literal(actions.AssigneeRule) - {"current_user"}
    assert set(_array("RECIPIENTS")) == _literal(actions.Recipient)
    assert tuple(_array("SETTABLE")) == actions.SETTABLE_FIELDS
