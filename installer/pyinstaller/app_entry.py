# Entry script of the windowed app (DentalAIBridge.exe, console=False): the tray application.
import sys

import onnxruntime  # noqa: F401 — before Qt: Qt's older MSVC runtime breaks onnxruntime's DLL init

from tray_app.ui.app_shell import main

raise SystemExit(main(sys.argv[1:]))
