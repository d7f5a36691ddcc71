"""The practice-management system: Open Dental's API client, its keys, and what we read from it.

Below review and export (both use it), above the store; no Qt, no exporter logic.
"""
