"""The goals of issue 21, one row each, checked against what `python -m bench` measured.

Each section of bench/run.py adds a `goal …` line per row it measures, so the printed
result and docs/performance.md say measured value, goal and met / NOT met side by side.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Goal:
    measure: str
    limit: float
    unit: str
    at_most: bool = True  # False: the value must be at least `limit`


GOALS = {
    "idle_cpu": Goal("idle CPU, two folders, one a 10 000-file polled share", 1.0, "% of a core"),
    "in_place_p95": Goal("file written in place → findings, p95", 0.8, "s"),
    "polled_p95": Goal("polled share → findings, p95", 2.5, "s"),
    "renamed_p95": Goal("file renamed in → findings, p95", 0.2, "s"),
    "pipeline_ratio": Goal("per-image pipeline ÷ raw session.run", 1.15, "×"),
    "throughput_ratio": Goal("service throughput ÷ raw session.run", 0.90, "×", at_most=False),
}


def verdict(name: str, value: float) -> str:
    g = GOALS[name]
    met = value <= g.limit if g.at_most else value >= g.limit
    return f"{value:g} {g.unit} ({'≤' if g.at_most else '≥'} {g.limit:g}: {'met' if met else 'NOT met'})"


def line(name: str) -> str:
    return f"goal: {GOALS[name].measure}"


def latency_rows(latency: dict) -> dict:
    """The three latency goals from bench_latency's p95s (the polled goal: the worse of both writes)."""
    p95 = lambda key: round(latency[key]["p95_ms"] / 1000, 3)  # noqa: E731
    return {line(name): verdict(name, value) for name, value in (
        ("renamed_p95", p95("native_renamed")), ("in_place_p95", p95("native_in_place")),
        ("polled_p95", max(p95("polling_renamed"), p95("polling_in_place"))))}
