"""uvicorn serving the hub's API (routes.py) over TLS, in a thread of the service.

TLS always: there is no plain-HTTP listener, so nothing with patient data crosses the LAN in
clear text (a plain-HTTP request to the port fails its handshake). uvicorn's access log is off:
request lines carry study and finding ids, and the hub logs only what it refuses.
"""

from __future__ import annotations

import logging
import ssl
import threading
import time

from ..review.api import ReviewAPI
from ..settings.hub import HubConfig
from .routes import create_app
from .tls import ensure_certificate, fingerprint

log = logging.getLogger(__name__)


class HubServer:
    def __init__(self, config: HubConfig, data_dir, api: ReviewAPI):
        import uvicorn  # only a hub loads the server

        self.config = config
        self.pem_file = ensure_certificate(data_dir)
        self.fingerprint = fingerprint(self.pem_file)
        self.app = create_app(api, self.fingerprint)
        self._server = uvicorn.Server(uvicorn.Config(
            self.app, host=config.bind_address, port=config.port, ssl_certfile=str(self.pem_file),
            ssl_keyfile=str(self.pem_file), ssl_version=ssl.PROTOCOL_TLS_SERVER, log_config=None,
            access_log=False, server_header=False, lifespan="off", timeout_graceful_shutdown=5))
        self._thread: threading.Thread | None = None
        self.problem = ""

    def start(self, timeout: float = 15.0) -> None:
        """Listening when this returns; raises OSError when the port cannot be opened."""
        self._thread = threading.Thread(target=self._serve, name="hub-server", daemon=True)
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self._server.started and self._thread.is_alive() and time.monotonic() < deadline:
            time.sleep(0.05)
        if not self._server.started:
            raise OSError(self.problem or f"the review hub could not listen on port {self.config.port}")
        log.info("review hub listening on %s:%d (TLS, certificate %s…)", self.config.bind_address,
                 self.config.port, self.fingerprint[:23])

    def _serve(self) -> None:
        try:
            self._server.run()
        except SystemExit:  # uvicorn exits when it cannot bind
            self.problem = f"the review hub cannot listen on port {self.config.port} (in use?)"
        except Exception as exc:
            self.problem = f"the review hub stopped: {exc}"
            log.exception("review hub failed")

    def stop(self) -> None:
        self.app.state.feed.close()
        self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=10)
        self.app.state.pool.shutdown(wait=False)
