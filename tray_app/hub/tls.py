"""The hub's TLS certificate: self-signed, made at first start, kept in the data folder.

Clients do not trust it through a CA: they pin its SHA-256 fingerprint (shown by
`dental-bridge hub status` and `hub pair`), so the certificate's names matter little; they
still list this PC's name and loopback for tools that look.
"""

from __future__ import annotations

import datetime
import hashlib
import ipaddress
import os
import socket
import ssl
from pathlib import Path

PEM_NAME = "hub.pem"  # the key and the certificate in one file, so they are made (and replaced) together
VALID_DAYS = 3650  # pinned, not CA-checked: renewing would break every paired client


def pem_path(data_dir: Path) -> Path:
    return Path(data_dir) / "hub" / PEM_NAME


def ensure_certificate(data_dir: Path) -> Path:
    """This hub's PEM file (private key + certificate), made the first time."""
    pem_file = pem_path(data_dir)
    if pem_file.exists():
        return pem_file
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    host = socket.gethostname() or "dental-bridge-hub"
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, f"Dental AI Bridge hub {host}"[:64])])
    now = datetime.datetime.now(datetime.timezone.utc)
    alt = x509.SubjectAlternativeName([x509.DNSName(host), x509.DNSName("localhost"),
                                       x509.IPAddress(ipaddress.ip_address("127.0.0.1"))])
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=1)).not_valid_after(now + datetime.timedelta(days=VALID_DAYS))
            .add_extension(alt, critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .sign(key, hashes.SHA256()))
    pem_file.parent.mkdir(parents=True, exist_ok=True)
    _private(pem_file.parent, 0o700)
    key_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
    _create_private(pem_file, key_pem + cert.public_bytes(serialization.Encoding.PEM))
    return pem_file


def _private(path: Path, mode: int) -> None:
    if os.name == "posix":  # Windows: the user's profile folder is already private
        os.chmod(path, mode)


def _create_private(path: Path, data: bytes) -> None:
    """Written readable by this user only from the start (never briefly world-readable), and
    never replacing one made meanwhile (the service and `hub status` may both make it first):
    the first complete file wins, so every process reports the same fingerprint."""
    tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(data)
    try:
        os.link(tmp, path)  # fails if it exists: unlike a rename, never replaces
    except FileExistsError:
        pass
    finally:
        os.unlink(tmp)


def fingerprint_of_pem(pem: str) -> str:
    """SHA-256 of the (first) certificate's DER bytes, as colon-separated upper-case hex pairs."""
    start = pem.index(ssl.PEM_HEADER)
    end = pem.index(ssl.PEM_FOOTER, start) + len(ssl.PEM_FOOTER)
    digest = hashlib.sha256(ssl.PEM_cert_to_DER_cert(pem[start:end])).hexdigest().upper()
    return ":".join(digest[i:i + 2] for i in range(0, len(digest), 2))


def fingerprint(pem_file: Path) -> str:
    return fingerprint_of_pem(Path(pem_file).read_text(encoding="ascii"))


def normalise(fp: str) -> str:
    """A fingerprint as typed or pasted (colons, spaces, any case) in the form `fingerprint` gives."""
    digest = "".join(ch for ch in fp.upper() if ch in "0123456789ABCDEF")
    return ":".join(digest[i:i + 2] for i in range(0, len(digest), 2))
