"""The goals of `python -m bench` (issue 21), checked against one run's result: ratios from the
same run only, so the machine's load moves both sides of each ratio."""

from __future__ import annotations

# (section, measure): (comparison, goal, what it is)
GOALS: dict[tuple[str, str], tuple[str, float, str]] = {
    ("overhead", "ratio_pipeline_to_raw"): ("<=", 1.15, "per-image pipeline ÷ raw session.run"),
    ("throughput", "ratio_pipeline_to_raw"): (">=", 0.90, "service throughput ÷ raw session.run"),
}


def check(result: dict) -> dict:
    """{what: "value (goal ≤ x): met|NOT met"} for every goal whose section ran."""
    out = {}
    for (section, measure), (op, goal, what) in GOALS.items():
        value = result.get(section, {}).get(measure)
        if value is None:
            continue
        met = value <= goal if op == "<=" else value >= goal
        out[what] = f"{value} (goal {'≤' if op == '<=' else '≥'} {goal}): {'met' if met else 'NOT met'}"
    return out
