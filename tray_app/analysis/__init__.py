"""Model registry, ONNX runner and detection post-processing (no Qt, no torch)."""
