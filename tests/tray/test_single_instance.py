"""A second launch finds the first, asks it to show its window, and steps aside."""

from __future__ import annotations

import uuid

from tray_app.ui.single_instance import SingleInstance, instance_names


def test_second_guard_detects_first_and_first_is_asked_to_show(qtbot):
    name = f"DentalAIBridge-test-{uuid.uuid4().hex[:8]}"
    first = SingleInstance(name, use_mutex=False)
    second = SingleInstance(name, use_mutex=False)
    try:
        assert first.acquire() is True
        with qtbot.waitSignal(first.show_requested, timeout=3000):
            assert second.acquire() is False
        assert second.server is None
    finally:
        first.release()
        second.release()


def test_released_guard_lets_the_next_one_serve(qtbot):
    name = f"DentalAIBridge-test-{uuid.uuid4().hex[:8]}"
    first = SingleInstance(name, use_mutex=False)
    assert first.acquire()
    first.release()
    again = SingleInstance(name, use_mutex=False)
    try:
        assert again.acquire() is True
    finally:
        again.release()


def test_names_follow_the_data_folder(tmp_path, monkeypatch):
    monkeypatch.delenv("DENTAL_BRIDGE_HOME", raising=False)
    server, mutex = instance_names(tmp_path)
    assert mutex == "DentalAIBridge.SingleInstance"  # = the installer's AppMutex
    monkeypatch.setenv("DENTAL_BRIDGE_HOME", str(tmp_path))
    server_a, mutex_a = instance_names(tmp_path / "a")
    server_b, mutex_b = instance_names(tmp_path / "b")
    assert server_a != server_b and mutex_a != mutex_b and mutex_a.startswith("DentalAIBridge.SingleInstance.")
