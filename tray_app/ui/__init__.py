"""Everything Qt and pystray lives in this package; the core runs headless.

onnxruntime is imported here, before any Qt module can be: on Windows, Qt brings an older
MSVC runtime that breaks onnxruntime's DLL initialisation when it loads first. Every UI entry
point imports this package first, so the order holds however the UI is started."""

import onnxruntime  # noqa: F401
