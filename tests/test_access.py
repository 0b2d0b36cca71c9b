"""Who may print, and privately: calling-AE and peer-address allow-lists, DICOM TLS (with
our pynetdicom SCU and DCMTK's echoscu), and AE titles that cannot name a folder outside
the output."""

from __future__ import annotations

import json
import ssl
import subprocess
from pathlib import Path

import pytest
from pynetdicom import AE

from conftest import profile_with
from dcmtk import DcmtkPrint, dcmtk_binary, dcmtk_env
from printscp import profile as profiles
from printscp.scp import tls
from printscp.scp.server import PrintServer, Settings
from scu import GRAY_META, associate, gray_pixels


# ---- allow-lists -------------------------------------------------------------------------------

def try_associate(port: int, calling_ae: str = "TESTSCU", tls_args=None):
    """(established?, (result, source, diagnostic) of an A-ASSOCIATE-RJ or None)."""
    ae = AE(ae_title=calling_ae)
    ae.acse_timeout = ae.network_timeout = 10
    ae.add_requested_context(GRAY_META)
    assoc = ae.associate("127.0.0.1", port, ae_title="PRINTSCP", tls_args=tls_args)
    try:
        rj = assoc.acceptor.primitive if assoc.is_rejected else None
        return assoc.is_established, (rj.result, rj.result_source, rj.diagnostic) if rj else None
    finally:
        if assoc.is_established:
            assoc.release()
        ae.shutdown()


def test_a_calling_ae_title_not_allowed_is_rejected_with_reason_3(start_printer, caplog):
    running = start_printer(profile_with(association={"allowed_calling_aes": ["CT_ROOM1", "MR_ROOM2"]}))
    assert try_associate(running.port, "INTRUDER") == (False, (0x01, 0x01, 0x03))  # permanent, user, calling AE
    assert any("INTRUDER" in r.getMessage() and "allowed_calling_aes" in r.getMessage() for r in caplog.records)
    assert try_associate(running.port, "CT_ROOM1") == (True, None)
    with associate(running.port, calling_ae="MR_ROOM2") as scu:  # and it prints
        statuses = scu.print_film([gray_pixels(8, 8, 500)], r"STANDARD\1,1")
        assert statuses["print"] == 0
    assert running.wait_jobs(1)


def test_a_peer_outside_the_allowed_networks_is_rejected(start_printer):
    refused = start_printer(profile_with(association={"allowed_peers": ["10.0.0.0/8", "192.168.1.7"]}))
    assert try_associate(refused.port) == (False, (0x01, 0x01, 0x01))  # permanent, user, no reason given
    allowed = start_printer(profile_with(association={"allowed_peers": ["10.0.0.0/8", "127.0.0.0/8"]}))
    assert try_associate(allowed.port) == (True, None)


def test_allow_list_mistakes_are_profile_errors():
    with pytest.raises(profiles.ProfileError, match="allowed_peers.*'10.0.0.300/8'"):
        profile_with(association={"allowed_peers": ["10.0.0.300/8"]})
    with pytest.raises(profiles.ProfileError, match="allowed_calling_aes"):
        profile_with(association={"allowed_calling_aes": ["A_TITLE_LONGER_THAN_16"]})


# ---- operator and peer AE titles never name a folder outside the output -------------------------

def test_a_printer_title_with_dots_and_slashes_stays_in_the_output(tmp_path):
    output = tmp_path / "out"
    server = PrintServer(None, Settings("X", "127.0.0.1", 0, output),
                         printers={"../escaped": profiles.load(), "OK": profiles.load()})
    server.start()
    try:
        with associate(server.port, called_ae="../escaped", calling_ae="../../up") as scu:
            assert scu.print_film([gray_pixels(8, 8, 500)], r"STANDARD\1,1")["print"] == 0
        assert server.printers["../escaped"].spooler.wait_idle(30)
    finally:
        server.stop(drain_timeout=30)
    assert not (tmp_path / "escaped").exists()
    written = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert written and all(output in p.parents for p in written)
    (job,) = output.glob("escaped-*/[0-9]*/*/job.json")
    record = json.loads(job.read_text())
    assert record["called_ae"] == "../escaped" and record["calling_ae"] == "../../up"
    assert (output / job.parent.parent.parent.name / record["association"]["record"]).is_file()


# ---- DICOM TLS ----------------------------------------------------------------------------------

def openssl(*args, cwd: Path) -> None:
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True)


@pytest.fixture(scope="module")
def pki(tmp_path_factory) -> Path:
    """A throwaway CA, a server certificate for 127.0.0.1/localhost and a client certificate."""
    d = tmp_path_factory.mktemp("pki")
    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=printscp test CA",
            "-keyout", "ca.key", "-out", "ca.crt", cwd=d)
    for name, san in (("server", "subjectAltName=DNS:localhost,IP:127.0.0.1"), ("client", "subjectAltName=DNS:scu")):
        openssl("req", "-newkey", "rsa:2048", "-nodes", "-subj", f"/CN={name}", "-keyout", f"{name}.key",
                "-out", f"{name}.csr", cwd=d)
        (d / f"{name}.ext").write_text(san + "\n")
        openssl("x509", "-req", "-in", f"{name}.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial",
                "-days", "2", "-extfile", f"{name}.ext", "-out", f"{name}.crt", cwd=d)
    return d


@pytest.fixture
def tls_printer(tmp_path, pki):
    servers = []

    def start(*, plain: bool = False, client_certs: bool = False, profile=None):
        settings = Settings("PRINTSCP", "127.0.0.1", 0 if plain else None, tmp_path / f"out{len(servers)}",
                            tls_port=0, tls_cert=pki / "server.crt", tls_key=pki / "server.key",
                            tls_ca=pki / "ca.crt" if client_certs else None)
        server = PrintServer(profile or profiles.load(), settings)
        server.start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop(drain_timeout=30)


def client_context(pki: Path, *, cert: bool = False, maximum=None) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.SERVER_AUTH, cafile=str(pki / "ca.crt"))
    if cert:
        context.load_cert_chain(str(pki / "client.crt"), str(pki / "client.key"))
    if maximum is not None:
        context.minimum_version = ssl.TLSVersion.MINIMUM_SUPPORTED
        context.maximum_version = maximum
    return context


def test_prints_over_tls_with_our_scu_and_the_tls_port_only(tls_printer, pki):
    server = tls_printer()
    assert server.port is None and server.tls_port
    with associate(server.tls_port, tls_args=(client_context(pki), "localhost")) as scu:
        assert isinstance(scu.assoc.dul.socket.socket, ssl.SSLSocket)
        assert scu.assoc.dul.socket.socket.version() in ("TLSv1.2", "TLSv1.3")
        (ours,) = server.ae.active_associations
        assert "_wait_for_work" in ours.dul._target.__qualname__  # TLS gets the reactor that waits for work too
        # a 512 KB image arrives in TLS records larger than each read: the rest waits in the SSL buffer
        statuses = scu.print_film([gray_pixels(512, 512, 800), gray_pixels(16, 16, 800)], r"STANDARD\1,2")
    assert statuses["print"] == 0 and statuses["image_boxes"] == [0, 0]
    assert server.spooler.wait_idle(30) and len(server.spooler.finished) == 1
    assert try_associate(server.tls_port)[0] is False  # a plain client on the TLS port gets nowhere


def test_tls_beside_the_plain_port(tls_printer, pki):
    server = tls_printer(plain=True)
    assert try_associate(server.port) == (True, None)
    assert try_associate(server.tls_port, tls_args=(client_context(pki), "localhost")) == (True, None)


@pytest.mark.filterwarnings("ignore:ssl.TLSVersion:DeprecationWarning")
def test_tls_older_than_1_2_is_refused(tls_printer, pki):
    server = tls_printer()
    assert server._ssl.minimum_version == ssl.TLSVersion.TLSv1_2
    old = client_context(pki, maximum=ssl.TLSVersion.TLSv1_1)
    assert try_associate(server.tls_port, tls_args=(old, "localhost"))[0] is False
    assert try_associate(server.tls_port, tls_args=(client_context(pki), "localhost")) == (True, None)  # still serving


def test_client_certificates_are_required_when_a_ca_is_given(tls_printer, pki):
    server = tls_printer(client_certs=True)
    assert try_associate(server.tls_port, tls_args=(client_context(pki), "localhost"))[0] is False
    assert try_associate(server.tls_port, tls_args=(client_context(pki, cert=True), "localhost")) == (True, None)


def echoscu_tls(port: int, pki: Path, *, cert: bool) -> subprocess.CompletedProcess:
    tls_args = ["+tls", str(pki / "client.key"), str(pki / "client.crt")] if cert else ["+tla"]
    return subprocess.run([str(dcmtk_binary("echoscu")), *tls_args, "+cf", str(pki / "ca.crt"),
                           "-aet", "DCMTK_TLS", "-aec", "PRINTSCP", "127.0.0.1", str(port)],
                          capture_output=True, text=True, timeout=60, env=dcmtk_env())


def test_dcmtk_echoscu_over_tls_with_and_without_a_client_certificate(tls_printer, pki):
    server = tls_printer(client_certs=True)
    done = echoscu_tls(server.tls_port, pki, cert=True)
    assert done.returncode == 0, done.stdout + done.stderr
    refused = echoscu_tls(server.tls_port, pki, cert=False)  # anonymous TLS: no certificate to show
    assert refused.returncode != 0


def test_tls_misconfiguration_is_one_clear_error(pki, tmp_path):
    with pytest.raises(tls.TLSSetupError, match="no such file"):
        tls.server_context(tmp_path / "missing.crt", pki / "server.key")
    with pytest.raises(tls.TLSSetupError, match="are not a PEM certificate"):
        tls.server_context(pki / "server.crt", pki / "client.key")  # a key that does not match


def test_a_tls_client_that_never_handshakes_cannot_block_others(tls_printer, pki, monkeypatch):
    import socket

    monkeypatch.setattr(tls._ServerContext, "handshake_timeout", 1.0)
    server = tls_printer()
    with socket.create_connection(("127.0.0.1", server.tls_port)):  # connects, says nothing
        assert try_associate(server.tls_port, tls_args=(client_context(pki), "localhost")) == (True, None)


# ---- dcmprscu printing over TLS -----------------------------------------------------------------

class TlsDcmtkPrint(DcmtkPrint):
    """dcmprscu with a [TLS] section in its GENERAL part: where its key, certificate and the
    trusted CA (by hash name, as DCMTK looks it up) are."""

    tls_section = ""

    def _write_config(self, stem, target):
        path = super()._write_config(stem, target)
        path.write_text(path.read_text().replace("[[COMMUNICATION]]", self.tls_section + "\n[[COMMUNICATION]]", 1))
        return path


def test_dcmprscu_prints_over_tls_with_client_certificates(tls_printer, pki, tmp_path):
    cacerts = tmp_path / "cacerts"
    cacerts.mkdir()
    (cacerts / "ca.pem").write_bytes((pki / "ca.crt").read_bytes())
    openssl("rehash", str(cacerts), cwd=tmp_path)
    dcmtk = TlsDcmtkPrint(tmp_path / "dcmtk")
    dcmtk.tls_section = f"[TLS]\nTLSDirectory = {pki}\nCACertificateDirectory = {cacerts}\nUsePEMFormat = true\n"
    images = dcmtk.make_images(1, 64, 64, bits_stored=12)
    sp = dcmtk.make_stored_print(images, 1, 1, film_size="8INX10IN")
    server = tls_printer(client_certs=True)
    result = dcmtk.print(sp, server.tls_port, target_options={
        "UseTLS": "true", "Certificate": "client.crt", "PrivateKey": "client.key",
        "PeerAuthentication": "REQUIRE", "TLSProfile": "BCP195"})
    assert result.ok, result.log
    assert server.spooler.wait_idle(30) and len(server.spooler.finished) == 1
    (folder,) = server.spooler.finished
    assert json.loads((folder / "job.json").read_text())["calling_ae"] == "DCMPRSCU"
