"""The settings file's tables, each a typed dataclass read by one mechanism (`schema.py`).

Leaf layer: nothing here imports from the features that use the settings (export, sources,
…); they import their config types from here. `tray_app.config` holds the root `Config`
(the whole file), `Paths`, loading, saving and `config set`.
"""
