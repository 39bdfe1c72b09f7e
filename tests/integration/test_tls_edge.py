"""HTTPS at the edge for real: a CA made here, REST and gRPC through Envoy over TLS, old
protocols and plain HTTP refused, and the certificate replaced while Envoy keeps running.

Every handshake is made by Python's ``ssl`` module (OpenSSL) or grpc's own TLS stack, verifying
the chain against the test's CA: nothing here trusts the edge's own description of itself.
"""

from __future__ import annotations

import socket
import ssl
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import grpc
import httpx
import pytest
from cryptography import x509

from ktrdr.data.v1 import data_pb2, data_pb2_grpc
from ktrdr_cli import mesh
from ktrdr_gateway.tls import LocalCA

from .test_gateway_common import Edge, running_edge

pytestmark = [
    pytest.mark.integration,
    # TLS 1.1 is named on purpose: the test proves it is refused.
    pytest.mark.filterwarnings("ignore:ssl.TLSVersion.TLSv1_1 is deprecated"),
]


@pytest.fixture(scope="module")
def ca() -> LocalCA:
    return LocalCA("KTRDR test CA")


@pytest.fixture(scope="module")
def tls_edge(
    mesh_layout: mesh.Layout, ca: LocalCA, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Edge, Path]]:
    work = tmp_path_factory.mktemp("tls-edge")
    certs = work / "certs"
    certs.mkdir()
    ca.issue(common_name="first.ktrdr.test").write(certs / "tls.crt", certs / "tls.key")
    (work / "ca.pem").write_bytes(ca.cert_pem)
    with running_edge(
        mesh_layout, work, tls_cert=str(certs / "tls.crt"), tls_key=str(certs / "tls.key")
    ) as edge:
        yield edge, work


def _port(edge: Edge) -> int:
    return int(edge.url.rsplit(":", 1)[1])


def _context(ca_pem: Path) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=str(ca_pem))


def _handshake(port: int, ctx: ssl.SSLContext) -> tuple[str, x509.Certificate]:
    with (
        socket.create_connection(("127.0.0.1", port), timeout=10) as raw,
        ctx.wrap_socket(raw, server_hostname="localhost") as tls,
    ):
        der = tls.getpeercert(binary_form=True)
        assert der is not None
        return str(tls.version()), x509.load_der_x509_certificate(der)


def test_rest_over_https_verifies_against_the_ca_and_sends_hsts(
    tls_edge: tuple[Edge, Path],
) -> None:
    edge, work = tls_edge
    assert edge.url.startswith("https://")
    url = edge.url.replace("127.0.0.1", "localhost")
    with httpx.Client(
        base_url=url, verify=_context(work / "ca.pem"), headers={"x-api-key": edge.keys["read"]}
    ) as http:
        resp = http.get("/api/v1/data/symbols")
    assert resp.status_code == 200, resp.text
    assert {s["instrument"]["symbol"] for s in resp.json()["symbols"]} >= {"EURUSD", "GOOG"}
    assert resp.headers["strict-transport-security"].startswith("max-age=31536000")
    with (
        httpx.Client(base_url=url, verify=ssl.create_default_context()) as untrusting,
        pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED"),
    ):
        untrusting.get("/healthz")


def test_tls13_is_preferred_and_tls12_still_accepted(tls_edge: tuple[Edge, Path]) -> None:
    edge, work = tls_edge
    version, _ = _handshake(_port(edge), _context(work / "ca.pem"))
    assert version == "TLSv1.3"
    tls12 = _context(work / "ca.pem")
    tls12.maximum_version = ssl.TLSVersion.TLSv1_2
    version, _ = _handshake(_port(edge), tls12)
    assert version == "TLSv1.2"


def _tls11_client(ca_pem: Path) -> ssl.SSLContext:
    ctx = _context(ca_pem)
    ctx.set_ciphers("DEFAULT:@SECLEVEL=0")  # OpenSSL 3 refuses TLS 1.1 at its default level
    ctx.minimum_version = ssl.TLSVersion.TLSv1_1
    ctx.maximum_version = ssl.TLSVersion.TLSv1_1
    return ctx


def _tls11_control_server(cert: Path, key: Path) -> tuple[int, threading.Thread]:
    """A server that does speak TLS 1.1 (the control: the client really can)."""
    server_ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_ctx.set_ciphers("DEFAULT:@SECLEVEL=0")
    server_ctx.minimum_version = ssl.TLSVersion.TLSv1_1
    server_ctx.maximum_version = ssl.TLSVersion.TLSv1_1
    server_ctx.load_cert_chain(cert, key)
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(10)

    def serve() -> None:
        with listener:
            conn, _ = listener.accept()
            try:
                with server_ctx.wrap_socket(conn, server_side=True) as tls:
                    tls.recv(1)
            except (OSError, ssl.SSLError):
                pass

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    return listener.getsockname()[1], thread


def test_tls11_is_refused(tls_edge: tuple[Edge, Path]) -> None:
    edge, work = tls_edge
    client = _tls11_client(work / "ca.pem")
    port, thread = _tls11_control_server(work / "certs/tls.crt", work / "certs/tls.key")
    try:
        version, _ = _handshake(port, client)
    except ssl.SSLError as exc:  # this OpenSSL build cannot speak TLS 1.1 at all
        pytest.skip(f"the local OpenSSL cannot negotiate TLS 1.1: {exc}")
    finally:
        thread.join(timeout=10)
    assert version == "TLSv1.1"
    with pytest.raises(ssl.SSLError, match=r"(?i)protocol|version|alert"):
        _handshake(_port(edge), client)


def test_plain_http_on_the_tls_port_gets_no_http_answer(tls_edge: tuple[Edge, Path]) -> None:
    edge, _ = tls_edge
    with socket.create_connection(("127.0.0.1", _port(edge)), timeout=10) as raw:
        raw.sendall(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
        received = b""
        try:
            while chunk := raw.recv(4096):
                received += chunk
        except (ConnectionResetError, TimeoutError):
            pass
    assert not received.startswith(b"HTTP/"), received[:200]
    assert b"SERVING" not in received


def test_grpc_through_the_https_edge(tls_edge: tuple[Edge, Path]) -> None:
    edge, work = tls_edge
    creds = grpc.ssl_channel_credentials(root_certificates=(work / "ca.pem").read_bytes())
    with grpc.secure_channel(f"localhost:{_port(edge)}", creds) as channel:
        stub = data_pb2_grpc.DataServiceStub(channel)
        reply = stub.ListTimeframes(
            data_pb2.ListTimeframesRequest(),
            metadata=[("x-api-key", edge.keys["read"])],
            timeout=30,
        )
        assert "1h" in [t.code for t in reply.timeframes]
        with pytest.raises(grpc.RpcError) as info:
            stub.ListTimeframes(data_pb2.ListTimeframesRequest(), timeout=30)
        assert info.value.code() == grpc.StatusCode.UNAUTHENTICATED


def _served_common_name(port: int, ca_pem: Path) -> str:
    _, cert = _handshake(port, _context(ca_pem))
    return str(cert.subject.get_attributes_for_oid(x509.NameOID.COMMON_NAME)[0].value)


def _wait_for_common_name(port: int, ca_pem: Path, wanted: str) -> str:
    served = ""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        served = _served_common_name(port, ca_pem)
        if served == wanted:
            break
        time.sleep(0.2)
    return served


def test_a_replaced_certificate_is_served_without_a_restart(
    tls_edge: tuple[Edge, Path], ca: LocalCA
) -> None:
    edge, work = tls_edge
    port, ca_pem, certs = _port(edge), work / "ca.pem", work / "certs"
    before = _envoy_pids(work / "envoy.json")
    assert len(before) == 1
    assert _served_common_name(port, ca_pem) == "first.ktrdr.test"

    # A key that is not the certificate's is refused by Envoy: the current one stays served.
    second = ca.issue(common_name="second.ktrdr.test")
    (certs / ".bad.crt").write_bytes(second.cert_pem)
    (certs / ".bad.crt").replace(certs / "tls.crt")
    time.sleep(1)
    assert _served_common_name(port, ca_pem) == "first.ktrdr.test"

    second.write(certs / "tls.crt", certs / "tls.key")
    assert _wait_for_common_name(port, ca_pem, "second.ktrdr.test") == "second.ktrdr.test"
    assert _envoy_pids(work / "envoy.json") == before  # the same process, never restarted
    with httpx.Client(
        base_url=edge.url.replace("127.0.0.1", "localhost"), verify=_context(ca_pem)
    ) as http:
        assert http.get("/healthz").status_code == 200


def _envoy_pids(config: Path) -> set[int]:
    found = set()
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit():
            try:
                command = (proc / "cmdline").read_bytes().split(b"\0")
            except OSError:
                continue
            if str(config).encode() in command:
                found.add(int(proc.name))
    return found
