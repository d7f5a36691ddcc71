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


def share_with_subprocess(home, keyfile: Path, monkeypatch) -> dict:
    """The environment for a `dental-bridge` subprocess in `home` that uses the keyring file
    `keyfile`, which this test process uses from now on too (the audit key lives there)."""
    import keyring

    tests_dir = str(Path(__file__).resolve().parent)
    env = dict(os.environ, DENTAL_BRIDGE_HOME=str(home), DAB_TEST_KEYRING_FILE=str(keyfile),
               PYTHON_KEYRING_BACKEND="file_keyring.FileKeyring",
               PYTHONPATH=os.pathsep.join([tests_dir, os.environ.get("PYTHONPATH", "")]))
    monkeypatch.setenv("DAB_TEST_KEYRING_FILE", str(keyfile))
    keyring.set_keyring(FileKeyring())
    return env
