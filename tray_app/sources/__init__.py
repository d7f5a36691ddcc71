"""Folder sources: they only discover paths; intake decides what the files are."""
