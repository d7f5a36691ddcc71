# Entry script of the console CLI (dental-bridge.exe). `DENTAL_BRIDGE_SELFTEST=1` instead
# checks that every dynamically loaded module made it into the bundle (see required_modules).
import os
import sys


def _selftest() -> int:
    import importlib
    import importlib.util

    import required_modules

    os.environ.setdefault("PYSTRAY_BACKEND", "dummy")
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    import onnxruntime  # noqa: F401 — before Qt, as in the app

    missing = []
    for name in required_modules.required(sys.platform):
        try:
            if importlib.util.find_spec(name) is None:
                raise ModuleNotFoundError(name)
            if not name.startswith("pystray.") and name not in required_modules.OPTIONAL:
                importlib.import_module(name)
        except Exception as exc:  # noqa: BLE001 — report every failure, not just the first
            if name in required_modules.OPTIONAL:
                continue
            missing.append(f"{name}: {type(exc).__name__}: {exc}")
    # resources the app resolves through sys._MEIPASS
    base = getattr(sys, "_MEIPASS", ".")
    for rel in ("resources/icons/tray-watching.png", "resources/templates", "tray_app/store/migrations"):
        if not os.path.exists(os.path.join(base, rel)):
            missing.append(f"data file {rel} not bundled")
    for line in missing:
        print(f"MISSING {line}", file=sys.stderr)
    print(f"selftest: {'FAILED' if missing else 'ok'} ({len(required_modules.required(sys.platform))} modules)")
    return 1 if missing else 0


if os.environ.get("DENTAL_BRIDGE_SELFTEST"):
    raise SystemExit(_selftest())

from tray_app.cli import main  # noqa: E402

raise SystemExit(main())
