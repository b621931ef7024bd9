"""The observability stack: every metric a dashboard or alarm reads is one the code emits
(checked against servicedesk.platform.metric_names and the code that uses it), every alarm
notifies the topic, the key routes exist, and the saved Logs Insights queries cover every
function's logs."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from servicedesk.platform import metric_names as names
from stacks.constructs.overviews import KEY_ROUTES
from stacks.constructs.queries import MAX_LOG_GROUPS, QUERIES
from tests.infra.conftest import Synthesized

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "layers" / "core" / "python" / "servicedesk"


def _resources(template: Any, kind: str) -> dict[str, Any]:
    return {k: v for k, v in template.to_json()["Resources"].items() if v["Type"] == kind}


def _flatten(value: Any) -> str:
    """A dashboard body (an Fn::Join of strings and tokens) as one string."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and "Fn::Join" in value:
        return "".join(_flatten(part) for part in value["Fn::Join"][1])
    return "<token>"


def emitted_by_code() -> set[str]:
    """Metric names some code path outside metric_names records: its constant is used
    there, or it is an outbox event's counter and outbox writers call business_event."""
    constants = {var: m for var, m in vars(names).items() if isinstance(m, names.Metric)}
    sources = [p.read_text() for p in PACKAGE.rglob("*.py") if p.name != "metric_names.py"]
    used = {
        m.name
        for var, m in constants.items()
        if any(re.search(rf"\b{var}\b", text) for text in sources)
    }
    if any("metrics.business_event(" in text for text in sources):
        used |= {m.name for m in names.EVENT_COUNTERS.values()}
    return used


def dashboard_metric_names(template: Any) -> set[str]:
    found: set[str] = set()
    for dashboard in _resources(template, "AWS::CloudWatch::Dashboard").values():
        body = json.loads(_flatten(dashboard["Properties"]["DashboardBody"]))
        for widget in body["widgets"]:
            for line in widget.get("properties", {}).get("metrics", []):
                if line and line[0] == names.NAMESPACE:
                    found.add(line[1])
                for item in line:
                    if isinstance(item, dict) and "expression" in item:
                        found |= set(re.findall(r'MetricName="(\w+)"', item["expression"]))
    return found


def test_every_dashboard_metric_is_declared_and_emitted(dev: Synthesized) -> None:
    template = dev.templates["Observability"]
    on_dashboards = dashboard_metric_names(template)
    assert len(on_dashboards) >= 15, on_dashboards
    assert on_dashboards <= set(names.BY_NAME), on_dashboards - set(names.BY_NAME)
    missing = on_dashboards - emitted_by_code()
    assert not missing, f"on a dashboard, emitted by no code path: {missing}"
    # ... and the alarms' own metrics too.
    for alarm in _resources(template, "AWS::CloudWatch::Alarm").values():
        props = alarm["Properties"]
        metrics = (
            [props]
            if "MetricName" in props
            else [m.get("MetricStat", {}).get("Metric", {}) for m in props.get("Metrics", [])]
        )
        for metric in metrics:
            if metric.get("Namespace") == names.NAMESPACE:
                assert metric["MetricName"] in emitted_by_code(), metric


def test_three_overview_dashboards(dev: Synthesized) -> None:
    dashboards = _resources(dev.templates["Observability"], "AWS::CloudWatch::Dashboard")
    titles = {d["Properties"].get("DashboardName") for d in dashboards.values()}
    for name in ("api", "workers", "realtime"):
        assert f"servicedesk-dev-{name}" in titles, titles


def test_every_alarm_has_an_action_and_the_topic_has_the_email(dev: Synthesized) -> None:
    template = dev.templates["Observability"]
    alarms = _resources(template, "AWS::CloudWatch::Alarm")
    topics = set(_resources(template, "AWS::SNS::Topic"))
    assert len(alarms) >= 20
    for name, alarm in alarms.items():
        actions = alarm["Properties"].get("AlarmActions") or []
        assert actions, f"{name} has no action"
        assert all(a.get("Ref") in topics for a in actions), (name, actions)
    ids = " ".join(alarms)
    for expected in ("Route5xx", "RouteP95", "OutboxSweeperErrors", "WebSocketConnectionsDrop"):
        assert expected in ids, expected


def test_key_routes_are_real_route_templates() -> None:
    snapshot = json.loads((ROOT / "tests" / "fixtures" / "route_min_roles.json").read_text())
    assert set(KEY_ROUTES) <= set(snapshot), set(KEY_ROUTES) - set(snapshot)


def test_saved_queries_cover_every_function_log_group(dev: Synthesized) -> None:
    template = dev.templates["Observability"]
    definitions = _resources(template, "AWS::Logs::QueryDefinition")
    assert len(definitions) == len(QUERIES)
    functions = sum(len(_resources(t, "AWS::Lambda::Function")) for t in dev.templates.values())
    for definition in definitions.values():
        groups = definition["Properties"]["LogGroupNames"]
        assert 30 <= len(groups) <= MAX_LOG_GROUPS
        assert len(groups) <= functions
