"""Windows-only tests: they run under a Windows CPython (in CI: under Wine, `.ci/windows/run.sh`).

Every test here is marked `windows` (pytestmark) and skipped elsewhere, so the Linux suite
reports them as skipped. Modules import nothing Windows-only at the top, so collection works
on any OS.
"""

from __future__ import annotations

import sys

import pytest

ON_WINDOWS = sys.platform == "win32"


def pytest_collection_modifyitems(config, items):
    if ON_WINDOWS:
        return
    skip = pytest.mark.skip(reason="Windows only: runs under the Windows Python (.ci/windows/run.sh)")
    for item in items:
        if item.get_closest_marker("windows"):
            item.add_marker(skip)


@pytest.fixture
def win_home(tmp_path):
    h = tmp_path / "home"
    h.mkdir()
    return h
