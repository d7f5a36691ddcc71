# PyInstaller runtime hook (runs before the entry script in both executables).
# - console=False: sys.stdout/sys.stderr are None; logging and print would crash.
# - Windows: preload the bundled onnxruntime.dll by full path, so an older System32 copy
#   (Windows ML) can never be the one the Python binding binds to.
import os
import sys

if sys.stdout is None:
    sys.stdout = open(os.devnull, "w", encoding="utf-8")
if sys.stderr is None:
    sys.stderr = open(os.devnull, "w", encoding="utf-8")

if sys.platform == "win32" and getattr(sys, "_MEIPASS", None):
    _dll = os.path.join(sys._MEIPASS, "onnxruntime", "capi", "onnxruntime.dll")
    if os.path.exists(_dll):
        import ctypes

        try:
            ctypes.WinDLL(_dll)
        except OSError:
            pass  # the import of onnxruntime will report the real problem
