"""Entry points: `run_review_window(paths, config, request)` and `screenshot(paths, study_id, file, size)`.

A request is what `dental-bridge review` asks for: {"study": N} or {"patient": ID, "id_kind": K}
(an Open Dental Program Link: docs/program-link.md). A running tray app, or a review window
opened before, gets the request over the single-instance socket and opens it; only when none
runs does a new review window open.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

from ..config import Config, Paths
from .chart_link import follow_requests, open_request, raise_window


def _app():
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance()
    if app is None:
        app = QApplication(sys.argv[:1] or ["dental-bridge"])
        app.setApplicationName("Dental AI Bridge")
        app.setStyle("Fusion")
    return app


def _offscreen_windows() -> bool:
    return sys.platform == "win32" and os.environ.get("QT_QPA_PLATFORM") == "offscreen"


def _offscreen_font_folder() -> None:
    """Qt's offscreen platform takes its fonts from a folder (Qt's own lib/fonts by default, which
    neither the PySide6 wheels nor the frozen build ship), not from Windows: without one every
    text of a Windows screenshot is a row of empty boxes and the layout is far too wide."""
    if _offscreen_windows():
        os.environ.setdefault("QT_QPA_FONTDIR", os.path.join(os.environ.get("WINDIR", r"C:\Windows"), "Fonts"))


def _offscreen_ui_font(app) -> None:
    """Offscreen has no system UI font: its "Sans Serif" falls back to the first family in the
    folder (often a monospaced one, which widens every panel); use the one the windows platform uses."""
    if _offscreen_windows():
        from PySide6.QtGui import QFont

        QFont.insertSubstitutions("Segoe UI", ["Arial", "Liberation Sans", "Tahoma", "DejaVu Sans"])
        app.setFont(QFont("Segoe UI", 9))


def build_window(paths: Paths, config: Config | None = None, *, size: tuple[int, int] | None = None,
                 poll_ms: int | None = None, follow_hub: bool = True):
    """The review window over the store at `paths` (not shown); on a client home it follows the
    hub's changes by long-poll (`window.hub_follow`) unless `follow_hub` is False."""
    from ..analysis.catalog import ModelCatalog
    from ..app import model_search_dirs
    from ..review.api import ReviewAPI
    from ..store.db import Database
    from . import theme
    from .review_window import POLL_MS, ReviewWindow

    app = _app()
    paths.ensure()
    db = Database(paths.database)
    if config is None:
        try:
            from ..guarded_settings import load

            config = load(paths)[0]
        except Exception:  # an invalid settings file must not keep the reviewer out
            config = Config()
    catalog = ModelCatalog(model_search_dirs(paths))
    if config.client.hub_url:  # a client home reviews the hub's studies (RemoteReviewAPI raises when unpaired)
        from ..hub.remote_api import RemoteReviewAPI

        api = RemoteReviewAPI.for_config(config, catalog)
    else:
        api = ReviewAPI(db, config, catalog)
    if size is not None:
        scale = theme.scale_for(size[1])
    else:
        screen = app.primaryScreen()
        geo = screen.availableGeometry() if screen else None
        scale = theme.scale_for(geo.height() if geo else 768, screen.devicePixelRatio() if screen else 1.0)
    window = ReviewWindow(api, db, scale=scale,
                          poll_ms=POLL_MS if poll_ms is None else poll_ms)
    window.db_handle = db
    window.hub_follow = None
    if follow_hub and config.client.hub_url:
        from .hub_follow import WindowFollower

        window.hub_follow = WindowFollower(window, api.hub)
    if size is not None:
        window.resize(*size)
    else:
        _initial_geometry(window, app)
    return window


def _initial_geometry(window, app) -> None:
    screen = app.primaryScreen()
    if screen is None:
        window.resize(1366, 768)
        return
    geo = screen.availableGeometry()
    window.resize(min(geo.width(), max(1200, int(geo.width() * 0.9))), min(geo.height(), int(geo.height() * 0.9)))
    _split(window)


def _split(window) -> None:
    """Queue ~24 %, image the rest, findings ~28 % of the width."""
    w = window.width()
    q, f = int(w * 0.23), int(w * 0.28)
    window.splitter.setSizes([q, max(300, w - q - f), f])


def review_instance_name(paths: Paths) -> str:
    """The name a review window opened by `dental-bridge review` serves (apart from the tray app's:
    a tray app starting later must not mistake the window for itself)."""
    from .single_instance import instance_names

    return instance_names(paths.data_dir)[0] + "-review"


def forward_to_running(paths: Paths, request: dict | None) -> bool:
    """Asks a running tray app of this profile to open `request` in its review window."""
    from .single_instance import SingleInstance, instance_names, review_message

    _app()
    return SingleInstance(instance_names(paths.data_dir)[0], use_mutex=False).tell(review_message(request))


def run_review_window(paths: Paths, config: Config | None = None, request: dict | None = None) -> int:
    """Shows the review window on `request` and runs the Qt event loop until it is closed; a
    second `review` meanwhile opens its request here."""
    from .single_instance import SingleInstance, review_message

    app = _app()
    guard = SingleInstance(review_instance_name(paths), use_mutex=False)
    if not guard.acquire(message=review_message(request)):
        return 0
    try:
        window = build_window(paths, config)
        window.show()
        _split(window)
        open_request(window, request)
        follow_requests(guard, lambda: raise_window(window))
        from .event_loop import run_event_loop

        code = run_event_loop(app)
        window.db_handle.close()
    finally:
        guard.release()
    return int(code)


def screenshot(paths: Paths, study_id: int | None, file, size: tuple[int, int] = (1366, 768), *,
               request: dict | None = None) -> str:
    """Renders the window (offscreen is fine) with `study_id` (or `request`) open to a PNG at
    `file`; returns why the study or patient did not open ("" when it did)."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    _offscreen_font_folder()
    app = _app()
    _offscreen_ui_font(app)
    window = build_window(paths, None, size=size, poll_ms=0, follow_hub=False)
    window.show()
    window.resize(*size)
    _split(window)
    app.processEvents()
    problem = open_request(window, request if request is not None else {"study": study_id})
    _settle(app, window)
    window.canvas.fit()
    app.processEvents()
    Path(file).parent.mkdir(parents=True, exist_ok=True)
    if not window.grab().save(str(file)):
        raise OSError(f"could not write {file}")
    window.close()
    window.db_handle.close()
    return problem


def _settle(app, window, timeout: float = 15.0) -> None:
    """Process events until the current image, the thumbnails and the study panels have loaded."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        app.processEvents()
        if (window.image_id is None or window.canvas.pixmap_item is not None) and not window.pixels._pending:
            break
        time.sleep(0.02)
    app.processEvents()
    # the panels load off the GUI thread: a picture taken before they delivered leaves them out
    for panel in window.panels:
        panel.wait(int(max(0.0, deadline - time.monotonic()) * 1000))
    app.processEvents()
