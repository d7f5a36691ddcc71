"""Synthetic dental radiographs with exact ground truth (no open dental dataset exists)."""

from .synth import KINDS, LABELS, GroundTruth, Sample, generate_batch, generate_sample, to_uint8

__all__ = ["KINDS", "LABELS", "GroundTruth", "Sample", "generate_batch", "generate_sample", "to_uint8"]
