"""Modules the frozen app loads dynamically (plugins, backends, decoders): PyInstaller's import
analysis cannot see them, so build.spec lists them as hidden imports and the frozen CLI's
self-check (`DENTAL_BRIDGE_SELFTEST=1 dental-bridge`) imports every one of them, so a build
that lost one fails in CI instead of at a practice. Plain data, no imports: the spec reads it.
"""

COMMON = [
    # pydicom 3 decoder plugins (looked up by name at decode time) and python-gdcm
    "pydicom.pixels.decoders.gdcm",
    "pydicom.pixels.decoders.pillow",
    "pydicom.pixels.decoders.rle",
    "pydicom.pixels.decoders.pylibjpeg",
    "pydicom.pixels.decoders.pyjpegls",
    "pydicom.pixels.decoders.base",
    "gdcm",
    "jpeg_ls",          # pyjpegls, the JPEG-LS decoder (intake/decode.py prefers it to GDCM)
    # keyring backends are entry points (tray_app/pms/keys.py sets WinVault explicitly)
    "keyring.backends.fail",
    "keyring.backends.null",
    "keyring.backends.chainer",
    # watchdog: the polling observer (network shares) and the platform's native one
    "watchdog.observers",
    "watchdog.observers.polling",
    # onnxruntime's compiled module (dynamic libs collected by the hooks-contrib hook)
    "onnxruntime.capi.onnxruntime_pybind11_state",
    # things only the UI imports
    "PySide6.QtNetwork",
    "PIL.PngImagePlugin",
    "PIL.TiffImagePlugin",
    "PIL.JpegImagePlugin",
    "PIL.BmpImagePlugin",
    "pystray._dummy",
    "tray_app.ui.app_shell",
    "tray_app.autostart",
]

PLATFORM = {
    "win32": [
        "pystray._win32",
        "keyring.backends.Windows",
        "watchdog.observers.read_directory_changes",
        "watchdog.observers.winapi",
        "win32ctypes.core",
    ],
    "linux": [
        "pystray._xorg",
        "pystray._appindicator",
        "pystray._gtk",
        "keyring.backends.SecretService",
        "watchdog.observers.inotify",
        "Xlib.display",
    ],
    "darwin": [
        "pystray._darwin",
        "keyring.backends.macOS",
        "watchdog.observers.fsevents",
    ],
}

# importable only where optional system pieces exist (GTK/AppIndicator typelibs on Linux):
# bundled when found, not required at run time
OPTIONAL = {"pystray._appindicator", "pystray._gtk"}


def required(platform: str) -> list[str]:
    key = "linux" if platform.startswith("linux") else platform
    return COMMON + PLATFORM.get(key, [])
