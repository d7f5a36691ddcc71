"""`[hub]`: the review hub (tray_app/hub/) other PCs of the practice review through, over TLS
on the LAN. Off by default; every key is guarded (guarded_settings.py): turning it on opens the
app to the network."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

from .schema import Table


@dataclass
class HubConfig(Table):
    TABLE = "hub"

    enabled: bool = False
    port: int = 8743
    # all interfaces: the hub exists to be reached from the operatories; enabling it is the
    # deliberate (PIN-guarded) act, and every request needs TLS and a paired client's token
    bind_address: str = "0.0.0.0"

    def validate(self) -> list[str]:
        errors = []
        if not self.enabled:
            return errors  # a hub that is off does not block the app with half-filled settings
        if not 1 <= self.port <= 65535:
            errors.append("hub.port must be between 1 and 65535")
        try:
            ipaddress.ip_address(self.bind_address)
        except ValueError:
            errors.append(f"hub.bind_address must be an IP address of this PC (0.0.0.0 for all), "
                          f"not {self.bind_address!r}")
        return errors
