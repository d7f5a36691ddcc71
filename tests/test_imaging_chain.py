"""The export chain of the generator: style families, what it hides, what it keeps."""

from __future__ import annotations

import numpy as np
import pytest

from tray_app.demo import imaging_chain, synth
from tray_app.demo.synth import GroundTruth, _keep_visible, generate_sample, to_uint8


def test_every_family_is_drawn_and_can_be_forced():
    drawn = {imaging_chain.draw_family(s, k) for s in range(200) for k in range(3)}
    assert drawn == set(imaging_chain.FAMILIES)
    assert set(imaging_chain.HELD_OUT_FAMILIES) < set(imaging_chain.FAMILIES)
    for fam in imaging_chain.FAMILIES:
        s = generate_sample("bitewing", 4, style=fam)
        assert s.style == fam
    with pytest.raises(ValueError, match="style must be one of"):
        generate_sample("bitewing", 4, style="sepia")


@pytest.mark.parametrize("kind", synth.KINDS)
def test_a_style_changes_the_pixels_not_the_ground_truth(kind):
    looks = {fam: generate_sample(kind, 21, style=fam) for fam in imaging_chain.FAMILIES}
    first = looks["clean"]
    for fam, s in looks.items():
        assert s.objects == first.objects and s.image.shape == first.image.shape, fam
        if fam != "clean":
            diff = np.abs(to_uint8(s).astype(int) - to_uint8(first).astype(int)).mean()
            assert diff > 2, (fam, diff)
    again = generate_sample(kind, 21, style="psp_plate")
    assert np.array_equal(again.image, looks["psp_plate"].image)


def test_findings_hidden_by_the_outline_or_cut_by_the_crop_are_dropped():
    inside = np.ones((100, 200), bool)
    inside[:30, :30] = False                               # a rounded corner outside the sensor
    objs = [GroundTruth("tooth", (0.0, 0.0, 25.0, 25.0), 16), GroundTruth("caries", (5.0, 5.0, 15.0, 15.0), 16),
            GroundTruth("tooth", (60.0, 10.0, 120.0, 90.0), 15), GroundTruth("crown", (60.0, 10.0, 120.0, 40.0), 15),
            GroundTruth("tooth", (188.0, 10.0, 199.0, 90.0), 14)]  # 2 of 11 px left
    kept = _keep_visible(objs, inside, (10, 0, 190, 100))   # 10 px cut on both sides
    assert [(o.label, o.tooth_fdi) for o in kept] == [("tooth", 15), ("crown", 15)]
    assert kept[0].box == (50.0, 10.0, 110.0, 90.0)        # moved with the crop


def test_styles_cover_a_wide_range_of_looks():
    """Mean brightness and edge strength of the same anatomy spread across families."""
    stats = []
    for fam in imaging_chain.FAMILIES:
        img = to_uint8(generate_sample("periapical", 8, style=fam)).astype(np.float32)
        stats.append((img.mean(), np.abs(np.diff(img, axis=1)).mean()))
    means, edges = zip(*stats)
    assert max(means) - min(means) > 8 and max(edges) / min(edges) > 1.3, stats
