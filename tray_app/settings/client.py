"""`[client]`: the hub this PC reviews through (written by `dental-bridge client join`). The
token is not here: it is in the OS keyring; the fingerprint pins the hub's certificate."""

from __future__ import annotations

from dataclasses import dataclass

from .schema import Table

HEX = set("0123456789ABCDEF")


@dataclass
class ClientConfig(Table):
    TABLE = "client"

    hub_url: str = ""  # https://front-desk:8743; empty: this PC is not a hub's client
    hub_fingerprint: str = ""  # SHA-256 of the hub's certificate, AA:BB:… (hub status shows it)

    def validate(self) -> list[str]:
        errors = []
        if self.hub_url and not self.hub_url.startswith("https://"):
            errors.append("client.hub_url must start with https:// (patient data never crosses the network "
                          "unencrypted)")
        digits = self.hub_fingerprint.replace(":", "").upper()
        if self.hub_url and (len(digits) != 64 or not set(digits) <= HEX):
            errors.append("client.hub_fingerprint must be the hub's SHA-256 certificate fingerprint "
                          "(dental-bridge hub status on the hub shows it)")
        return errors
