"""The tray icon with pystray's win32 backend (needs a display: Xvfb under Wine): the icon
comes up, a click on it and a menu item chosen from its right-click menu reach the Qt side as
the bridge's signal."""

from __future__ import annotations

import threading
import time
import types

import pytest

from .child import wait_for

pytestmark = pytest.mark.windows

WM_LBUTTONUP, WM_RBUTTONUP, WM_KEYDOWN = 0x0202, 0x0205, 0x0100
VK_DOWN, VK_RETURN = 0x28, 0x0D


def _win32_pystray():
    import pystray
    import pystray._win32 as backend

    return types.SimpleNamespace(Icon=backend.Icon, Menu=pystray.Menu, MenuItem=pystray.MenuItem)


@pytest.fixture
def tray(qapp, monkeypatch):
    from tray_app.ui.tray import TrayBridge, TrayController

    monkeypatch.delenv("PYSTRAY_BACKEND", raising=False)
    bridge = TrayBridge()
    controller = TrayController(bridge, pystray_module=_win32_pystray())
    assert controller.start()
    assert controller._ready.wait(30), "the win32 tray icon did not come up (is there a display?)"
    yield bridge, controller
    controller.stop()
    assert not controller.thread.is_alive()


def _post(hwnd: int, msg: int, wparam: int, lparam: int) -> None:
    import ctypes

    ctypes.windll.user32.PostMessageW.argtypes = [ctypes.c_void_p, ctypes.c_uint, ctypes.c_size_t, ctypes.c_ssize_t]
    assert ctypes.windll.user32.PostMessageW(hwnd, msg, wparam, lparam)


def test_win32_icon_is_shown_with_title_and_notification(tray):
    bridge, controller = tray
    icon = controller.icon
    assert type(icon).__module__ == "pystray._win32" and icon._hwnd
    controller.set_state("attention", "Dental AI Bridge — 2 studies to review", 2)
    assert icon.title == "Dental AI Bridge — 2 studies to review"
    controller.notify("Dental AI Bridge", "2 studies are ready for review")
    assert controller.notifications[-1] == ("Dental AI Bridge", "2 studies are ready for review")


def test_a_click_on_the_icon_opens_review_through_the_qt_signal(tray, qtbot):
    from pystray._util import win32
    from tray_app.ui.tray import OPEN_REVIEW

    bridge, controller = tray
    with qtbot.waitSignal(bridge.requested, timeout=10000) as got:
        _post(controller.icon._hwnd, win32.WM_NOTIFY, 0, WM_LBUTTONUP)
    assert got.args == [OPEN_REVIEW]


def test_a_menu_item_chosen_from_the_right_click_menu_reaches_qt(tray, qtbot):
    """Right click opens the popup (TrackPopupMenuEx on the tray thread); Down three times and Return
    picks the third item, "Export now"."""
    import ctypes

    from pystray._util import win32
    from tray_app.ui.tray import EXPORT_NOW

    bridge, controller = tray
    user32 = ctypes.windll.user32
    user32.FindWindowW.restype = ctypes.c_void_p
    user32.FindWindowW.argtypes = [ctypes.c_wchar_p, ctypes.c_wchar_p]

    def choose():
        assert wait_for(lambda: user32.FindWindowW("#32768", None), timeout=15), "no popup menu"
        time.sleep(0.3)
        menu = user32.FindWindowW("#32768", None)
        for vk in (VK_DOWN, VK_DOWN, VK_DOWN, VK_RETURN):
            _post(menu, WM_KEYDOWN, vk, 0)
            time.sleep(0.2)

    with qtbot.waitSignal(bridge.requested, timeout=20000) as got:
        _post(controller.icon._hwnd, win32.WM_NOTIFY, 0, WM_RBUTTONUP)
        t = threading.Thread(target=choose, daemon=True)
        t.start()
    t.join(5)
    assert got.args == [EXPORT_NOW]
