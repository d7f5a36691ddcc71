"""Issue 22 items 15-16: https to the Open Dental API Service with the practice's own
certificate, a warning for plain http across the network, a cap on paged reads, and export
failure reasons that never bring a drop-file name (the patient's name) into the log."""

from __future__ import annotations

import datetime
import ipaddress
import logging
import ssl

import pytest

from tray_app.export import folder as folder_mod
from tray_app.export.doctor import run_checks
from tray_app.pms.client import MAX_PAGES, ODClient, ODError
from tray_app.export.outbox import Outbox
from tray_app.pms.keys import ODKeys
from tray_app.settings.export import ExportConfig, FolderConfig, OpenDentalConfig

from .od_server import CUST, DEV, FakeOpenDental


def _self_signed(tmp_path):
    x509 = pytest.importorskip("cryptography.x509")
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "practice-server")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=2))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), True)
            .sign(key, hashes.SHA256()))
    cert_file, key_file = tmp_path / "server.pem", tmp_path / "server.key"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert_file, key_file)
    return ctx, cert_file


def test_https_to_an_api_service_with_the_practices_own_certificate(tmp_path):
    ctx, cert_file = _self_signed(tmp_path)
    server = FakeOpenDental(tls=ctx).start()
    server.add_patient(1001, "Doe", "Jane", "1980-01-01")
    try:
        keys = ODKeys(DEV, CUST)
        # the certificate is checked: without the practice's certificate the call is refused ...
        with ODClient(OpenDentalConfig(mode="service", base_url=server.url, https=True), keys) as client:
            with pytest.raises(ODError):
                client.patient(1001)
        # ... and with it the patient is read over https
        od = OpenDentalConfig(mode="service", base_url=server.url, https=True, ca_file=str(cert_file))
        with ODClient(od, keys) as client:
            assert client.patient(1001)["LName"] == "Doe"
        assert server.state.requests[-1]["path"] == "/patients/1001"
    finally:
        server.stop()
    assert OpenDentalConfig(mode="service", server="ods1", https=True).url_for("service") == \
        "https://ods1:30223/api/v1/"


def test_plain_http_across_the_network_is_warned_about(qtbot, home):
    lan = OpenDentalConfig(mode="service", server="192.168.1.20", fallback=[])
    assert lan.plain_on_network() == ["http://192.168.1.20:30223/api/v1/"]
    assert OpenDentalConfig(mode="service", server="ODSERVER").plain_on_network()  # a computer name
    assert not OpenDentalConfig(mode="local").plain_on_network()  # this computer's Local API
    assert not OpenDentalConfig(mode="service", server="127.0.0.1").plain_on_network()
    assert not OpenDentalConfig(mode="service", server="192.168.1.20", https=True).plain_on_network()
    checks = run_checks(ExportConfig(destinations=["opendental"], opendental=lan), keys_provider=lambda: None)
    (warn,) = [c for c in checks if c.name == "Open Dental connection security"]
    assert warn.warning and warn.ok and "unencrypted" in warn.message
    # the settings window says so while the connection is being set up
    from service_helpers import home_paths
    from tray_app.config import Config
    from tray_app.ui.settings_window import SettingsWindow

    w = SettingsWindow(home_paths().ensure(), Config(), autostart_supported=False)
    qtbot.addWidget(w)
    w.show()
    assert w.export_page.od_plain.isHidden()
    w.export_page.od_mode.setCurrentIndex(w.export_page.od_mode.findData("service"))
    w.export_page.od_server.setText("192.168.1.20")
    assert not w.export_page.od_plain.isHidden() and "unencrypted" in w.export_page.od_plain.text()
    w.export_page.od_https.setChecked(True)
    assert w.export_page.od_plain.isHidden()


def test_paged_reads_stop_at_a_page_cap(od_server):
    od_server.state.endless_pages = True
    with ODClient(OpenDentalConfig(base_url=od_server.url), ODKeys(DEV, CUST)) as client:
        with pytest.raises(ODError, match="kept sending more documents") as err:
            client.get_all("documents", {"PatNum": 1001})
    assert err.value.retry and err.value.written is False
    assert len(od_server.state.requests) == MAX_PAGES


def test_export_failures_log_no_drop_file_name(workspace, clock, tmp_path, monkeypatch, caplog):
    drop = tmp_path / "drop"
    drop.mkdir()

    def locked(path, data):
        raise PermissionError(13, "Permission denied", str(path))

    monkeypatch.setattr(folder_mod, "atomic_write", locked)
    workspace.sign("A", destinations=("folder",))
    config = ExportConfig(destinations=["folder"], folder=FolderConfig(path=str(drop)))
    with caplog.at_level(logging.DEBUG):
        (result,) = Outbox(workspace.db, config, clock=clock).drain_once()
    assert result["state"] == "failed" and "open in another program" in result["reason"]
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "export" in logged and "Doe" not in logged and "Jane" not in logged and ".jpg" not in logged \
        and ".pdf" not in logged, logged
