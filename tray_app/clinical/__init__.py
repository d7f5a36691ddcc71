"""Clinical rules: image type, tags, set completeness, triage, CDT suggestions, drafted text.

Deterministic rules and templates only; nothing here invents text with a model.
"""
