"""A keyring backend backed by a JSON file named in DAB_TEST_KEYRING_FILE, so a service
subprocess in a test reads the keys the test stored (selected with PYTHON_KEYRING_BACKEND)."""

from __future__ import annotations

import json
import os
from pathlib import Path

from keyring.backend import KeyringBackend


class FileKeyring(KeyringBackend):
    priority = 1

    def _path(self) -> Path:
        return Path(os.environ["DAB_TEST_KEYRING_FILE"])

    def _load(self) -> dict:
        p = self._path()
        return json.loads(p.read_text()) if p.exists() else {}

    def get_password(self, service, username):
        return self._load().get(f"{service}\n{username}")

    def _save(self, data: dict) -> None:
        # atomically: the service and the test process both write (the audit anchor)
        tmp = self._path().with_name(f"{self._path().name}.{os.getpid()}.tmp")
        tmp.write_text(json.dumps(data))
        os.replace(tmp, self._path())

    def set_password(self, service, username, password):
        data = self._load()
        data[f"{service}\n{username}"] = password
        self._save(data)

    def delete_password(self, service, username):
        data = self._load()
        data.pop(f"{service}\n{username}", None)
        self._save(data)
