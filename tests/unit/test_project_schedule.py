"""The critical path method against independent references: on random DAGs (finish-to-start
and start-to-start edges with lags) the project's length equals the longest path networkx
finds, the critical path is a real chain of tight edges, and slack is never negative."""

from __future__ import annotations

import itertools

import networkx as nx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from servicedesk.projects.schedule import CycleError, Edge, critical_path, topological


@st.composite
def dags(draw: st.DrawFn) -> tuple[dict[int, float], list[Edge[int]]]:
    size = draw(st.integers(min_value=1, max_value=12))
    durations = {n: float(draw(st.integers(min_value=0, max_value=6))) for n in range(size)}
    pairs = [(a, b) for a, b in itertools.combinations(range(size), 2)]
    chosen = draw(st.lists(st.sampled_from(pairs), unique=True, max_size=30)) if pairs else []
    edges = [
        Edge(
            a,
            b,
            draw(st.sampled_from(["finish_to_start", "start_to_start"])),
            float(draw(st.integers(min_value=0, max_value=3))),
        )
        for a, b in chosen
    ]
    order = draw(st.permutations(list(range(size))))  # node ids need not be topological
    rename = dict(zip(range(size), order, strict=True))
    return (
        {rename[n]: d for n, d in durations.items()},
        [Edge(rename[e.before], rename[e.after], e.kind, e.lag) for e in edges],
    )


def _reference_length(durations: dict[int, float], edges: list[Edge[int]]) -> float:
    """Longest source-to-sink path: an edge's weight is what it adds to its successor's
    start; each task's duration is added on its way to the sink."""
    graph = nx.DiGraph()
    for node, duration in durations.items():
        graph.add_edge("start", node, weight=0.0)
        graph.add_edge(node, "end", weight=duration)
    for e in edges:
        weight = (durations[e.before] if e.kind == "finish_to_start" else 0.0) + e.lag
        if graph.has_edge(e.before, e.after):
            weight = max(weight, graph[e.before][e.after]["weight"])
        graph.add_edge(e.before, e.after, weight=weight)
    return float(nx.dag_longest_path_length(graph, weight="weight"))


@settings(max_examples=300, deadline=None)
@given(dags())
def test_the_project_length_equals_the_longest_path(graph):
    durations, edges = graph
    plan = critical_path(durations, edges)
    assert plan.finish == pytest.approx(_reference_length(durations, edges))
    for timing in plan.timings.values():
        assert timing.slack >= -1e-9
        assert timing.earliest_finish <= plan.finish + 1e-9


@settings(max_examples=300, deadline=None)
@given(dags())
def test_the_critical_path_is_a_chain_of_tight_edges_to_the_finish(graph):
    durations, edges = graph
    plan = critical_path(durations, edges)
    path = plan.path
    assert path, "a project with tasks has a critical path"
    assert all(plan.timings[n].critical for n in path)
    assert plan.timings[path[0]].earliest_start == 0
    assert plan.timings[path[-1]].earliest_finish == pytest.approx(plan.finish)
    by_pair = {(e.before, e.after): e for e in edges}
    for before, after in itertools.pairwise(path):
        assert (before, after) in by_pair


def test_own_start_dates_hold_a_task_back():
    plan = critical_path({1: 2.0, 2: 1.0}, [Edge(1, 2)], not_before={2: 5.0})
    assert plan.timings[2].earliest_start == 5.0 and plan.finish == 6.0
    assert plan.timings[1].slack == 3.0


def test_a_cycle_is_an_error_not_a_schedule():
    with pytest.raises(CycleError):
        topological([1, 2, 3], [Edge(1, 2), Edge(2, 3), Edge(3, 1)])


def test_ten_thousand_tasks_schedule_in_linear_time():
    durations = {n: 1.0 for n in range(10_000)}
    edges = [Edge(n, n + 1) for n in range(9_999)]
    plan = critical_path(durations, edges)
    assert plan.finish == 10_000.0 and len(plan.path) == 10_000
