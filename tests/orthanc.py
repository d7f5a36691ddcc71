"""A real Orthanc (Debian's `orthanc` package) started by a test: loopback ports, storage in a
temporary folder, its own configuration file, no plugins. Its REST API is used over loopback
HTTP (httpx) to look at what it stored; `docs/deployment.md` describes the same setup for a
group of practices.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import time
from pathlib import Path

import httpx

# Debian installs it in /usr/sbin, which is not on an ordinary user's PATH
BINARY = shutil.which("Orthanc") or shutil.which("Orthanc", path="/usr/sbin")
MISSING = "the Orthanc binary is not installed (Debian: apt-get install orthanc; .ci/run installs it)"


class Orthanc:
    def __init__(self, folder: Path, config: dict):
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        storage = str(self.folder / "storage")
        # storage, index and every port are this test's own; no plugin of the system install is loaded
        self.config = dict(config, StorageDirectory=storage, IndexDirectory=storage, Plugins=[],
                           RemoteAccessAllowed=False, SaveJobs=False)
        self.url = f"http://127.0.0.1:{self.config['HttpPort']}"
        self.log = self.folder / "orthanc.log"
        self.proc: subprocess.Popen | None = None
        self.http = httpx.Client(base_url=self.url, timeout=30.0)

    def start(self, timeout: float = 30.0) -> "Orthanc":
        config_file = self.folder / "orthanc.json"
        config_file.write_text(json.dumps(self.config, indent=2), encoding="utf-8")
        with open(self.log, "wb") as log:
            self.proc = subprocess.Popen([BINARY, str(config_file)], cwd=self.folder, stdout=log, stderr=log)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"Orthanc exited with {self.proc.returncode}:\n{self.log_tail()}")
            try:
                if self.http.get("/system").status_code == 200:
                    return self
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        raise AssertionError(f"Orthanc did not answer within {timeout:.0f}s:\n{self.log_tail()}")

    def stop(self) -> None:
        self.http.close()
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)

    def log_tail(self, chars: int = 3000) -> str:
        return self.log.read_bytes().decode("utf-8", "replace")[-chars:] if self.log.exists() else ""

    # -- REST ------------------------------------------------------------------------------------
    def get(self, path: str):
        r = self.http.get(path)
        r.raise_for_status()
        return r.json()

    def post(self, path: str, body):
        r = self.http.post(path, json=body)
        r.raise_for_status()
        return r.json()

    def find_instances(self, **query) -> list[str]:
        """Orthanc IDs of the stored instances whose DICOM tags match `query` (/tools/find)."""
        return self.post("/tools/find", {"Level": "Instance", "Query": query})

    def tags(self, instance: str) -> dict:
        return self.get(f"/instances/{instance}/simplified-tags")

    def origin(self, instance: str) -> dict:
        """Where Orthanc got the instance from: Origin, RemoteAET, CalledAET (its metadata)."""
        return self.get(f"/instances/{instance}/metadata?expand")
