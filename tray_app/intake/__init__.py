"""Reads each new file: hash, dedupe, decode, metadata, patient identity, study grouping."""
