"""bench/tooth_numbers.py measures what the chart gets: a detected tooth numbered right."""

from bench.tooth_numbers import run


def test_most_detected_teeth_of_generated_bitewings_are_numbered_right():
    out = run(4, 60000, kinds=("bitewing",))["bitewing"]
    assert out["matched"] >= 20                       # ~8 teeth per bitewing, most found
    assert out["share"] >= 0.75, out                  # 0.94 over 150 images (docs/model.md)
