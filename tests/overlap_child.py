"""`run --headless` that kills itself (SIGKILL) on the preparation thread at one point of
preparing an image ahead, or on the commit thread while an analysed image's commit is in
flight: `python overlap_child.py staging|prepared|committing`. Used by test_overlap."""

import os
import signal
import sys
import threading
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from tray_app.intake import pipeline  # noqa: E402

POINT = sys.argv[1]
MARK = Path(os.environ["DENTAL_BRIDGE_HOME"]) / "killed-while-preparing"


def _on_prepare_thread() -> bool:
    return threading.current_thread().name == "analysis-prepare"


def _on_commit_thread() -> bool:
    return threading.current_thread().name == "analysis-commit"


def _die() -> None:
    MARK.write_text(POINT)
    os.kill(os.getpid(), signal.SIGKILL)


if POINT == "staging":  # halfway through the copy of the next image
    real_copy = pipeline.copy_hashed

    def copy_hashed(src, dst, **kw):
        if _on_prepare_thread():
            dst.write_bytes(Path(src).read_bytes()[:100])
            _die()
        return real_copy(src, dst, **kw)

    pipeline.copy_hashed = copy_hashed
elif POINT == "committing":  # the model ran, its findings written but not committed
    from tray_app.store import images as image_repo

    real_mark = image_repo.mark_analyzed

    def mark_analyzed(*a, **kw):
        out = real_mark(*a, **kw)
        if _on_commit_thread():
            _die()
        return out

    image_repo.mark_analyzed = mark_analyzed
else:  # the next image decoded, committed and pre-processed, waiting for the model
    real_prepare = pipeline.Processor.prepare

    def prepare(self, image_id):
        out = real_prepare(self, image_id)
        if _on_prepare_thread() and out.plan is not None:
            _die()
        return out

    pipeline.Processor.prepare = prepare

from tray_app.cli import main  # noqa: E402

raise SystemExit(main(["run", "--headless"]))
