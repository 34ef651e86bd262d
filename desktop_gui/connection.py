"""ServerConnection: which server the app talks to, and what it last said about itself."""

from __future__ import annotations

from dataclasses import dataclass

from backend.errors import OsddError
from backend.rpc.client import ConnectionSettings
from backend.types import ServerInfo

from .events import Listeners

UNREACHABLE = "UNREACHABLE"


@dataclass(frozen=True)
class ServerStatus:
    """One health check: "SERVING", "NOT_SERVING", "UNKNOWN" or UNREACHABLE (then `error`
    says why), and the server's engines and device once it answered GetInfo."""

    address: str
    health: str
    info: ServerInfo | None = None
    error: str = ""

    @property
    def serving(self) -> bool:
        return self.health == "SERVING"

    def describe(self) -> str:
        if self.health == UNREACHABLE:
            return f"{self.address}: not reachable ({self.error})"
        if self.info is None:
            return f"{self.address}: {self.health.lower().replace('_', ' ')}"
        engines = ", ".join(f"{e.name} ({e.device})" for e in self.info.engines)
        return (f"{self.address}: {self.health.lower().replace('_', ' ')}, osdd-deblur "
                f"{self.info.version}, engines: {engines}")


class ServerConnection:
    """The current server address and its client; status_changed emits each new
    ServerStatus, address_changed the new address. probe() blocks: call it off the UI
    thread, then hand the result to set_status() on the UI thread."""

    def __init__(self, settings: ConnectionSettings | str) -> None:
        if isinstance(settings, str):
            settings = ConnectionSettings.resolve(settings)
        self.settings = settings
        self.address = settings.address
        self.client = settings.client()
        self.status = ServerStatus(self.address, "UNKNOWN")
        self.status_changed: Listeners[ServerStatus] = Listeners()
        self.address_changed: Listeners[str] = Listeners()

    def connect(self, address: str) -> None:
        address = address.strip()
        if not address or address == self.address:
            return
        settings = self.settings.at(address)
        client = settings.client()  # a malformed address raises here, changing nothing
        old = self.client
        self.settings, self.address, self.client = settings, address, client
        old.close()
        self.address_changed.emit(address)
        self.set_status(ServerStatus(address, "UNKNOWN"))

    def probe(self, timeout: float = 3.0) -> ServerStatus:
        client, address = self.client, self.address
        try:
            health = client.health(timeout=timeout)
            info = client.info(timeout=timeout) if health == "SERVING" else None
        except OsddError as exc:
            return ServerStatus(address, UNREACHABLE, error=str(exc))
        return ServerStatus(address, health, info)

    def set_status(self, status: ServerStatus) -> None:
        """Take a probe's answer, unless the address changed since it was asked."""
        if status.address == self.address and status != self.status:
            self.status = status
            self.status_changed.emit(status)

    def close(self) -> None:
        self.client.close()
