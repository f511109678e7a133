"""Serving the Chalice app on loopback, in a thread, with Chalice's own local gateway (the same
request/response translation `chalice local` uses)."""

from __future__ import annotations

import threading
from typing import Any

from chalice.config import Config
from chalice.local import LocalDevServer


class AppServer:
    def __init__(self, app: Any, host: str = "127.0.0.1", port: int = 8000) -> None:
        config = Config.create(chalice_stage="local", chalice_app=app, app_name=app.app_name)
        self._server = LocalDevServer(app, config, host, port)
        self.host = host
        self.port = int(self._server.server.server_address[1])
        self._thread = threading.Thread(
            target=self._server.server.serve_forever, daemon=True, name="cirrus-http"
        )

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> AppServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.server.shutdown()
        self._server.server.server_close()
