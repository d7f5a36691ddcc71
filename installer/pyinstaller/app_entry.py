# Entry script of the windowed app (DentalAIBridge.exe, console=False): the tray application.
import sys

from tray_app.ui.app_shell import main

raise SystemExit(main(sys.argv[1:]))
