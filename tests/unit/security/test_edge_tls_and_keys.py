"""The edge's start-up checks (certificate, sealed key store) and the sealed API key store."""

from __future__ import annotations

import datetime as dt
import json
import os
import stat
from pathlib import Path

import pytest

from ktrdr_cli import mesh as cli_mesh
from ktrdr_core import sealed
from ktrdr_core.sealed import EncryptionKey, Keyring
from ktrdr_gateway import envoy_config, keys, tls
from ktrdr_gateway import mesh as gateway_mesh
from ktrdr_gateway.tls import LocalCA, TlsError

KEY = EncryptionKey.generate()
OTHER = EncryptionKey.generate()
NOW = dt.datetime.now(dt.UTC)


@pytest.fixture(scope="module")
def ca() -> LocalCA:
    return LocalCA("unit CA")


def _write(issued: tls.Issued, tmp_path: Path, name: str = "tls") -> tuple[Path, Path]:
    cert, key = tmp_path / f"{name}.crt", tmp_path / f"{name}.key"
    issued.write(cert, key)
    return cert, key


def test_a_valid_certificate_passes_with_its_expiry(ca: LocalCA, tmp_path: Path) -> None:
    cert, key = _write(ca.issue(common_name="edge.test"), tmp_path)
    info = tls.check_certificate(cert, key)
    assert info.subject == "CN=edge.test"
    assert 29 < info.days_left <= 30


def test_an_expired_certificate_is_a_start_up_error_naming_the_file(
    ca: LocalCA, tmp_path: Path
) -> None:
    issued = ca.issue(not_before=NOW - dt.timedelta(days=10), not_after=NOW - dt.timedelta(days=1))
    cert, key = _write(issued, tmp_path)
    with pytest.raises(TlsError, match="expired on") as info:
        tls.check_certificate(cert, key)
    assert str(cert) in str(info.value)


def test_a_certificate_not_yet_valid_is_refused(ca: LocalCA, tmp_path: Path) -> None:
    issued = ca.issue(not_before=NOW + dt.timedelta(days=2), not_after=NOW + dt.timedelta(days=9))
    cert, key = _write(issued, tmp_path)
    with pytest.raises(TlsError, match="not valid before"):
        tls.check_certificate(cert, key)


def test_a_key_of_another_certificate_is_refused_naming_both_files(
    ca: LocalCA, tmp_path: Path
) -> None:
    cert, _ = _write(ca.issue(), tmp_path, "one")
    _, other_key = _write(ca.issue(), tmp_path, "two")
    with pytest.raises(TlsError, match="does not belong") as info:
        tls.check_certificate(cert, other_key)
    assert str(cert) in str(info.value) and str(other_key) in str(info.value)


def test_unreadable_or_non_pem_files_are_named(ca: LocalCA, tmp_path: Path) -> None:
    cert, key = _write(ca.issue(), tmp_path)
    with pytest.raises(TlsError, match="cannot read"):
        tls.check_certificate(tmp_path / "missing.crt", key)
    (tmp_path / "junk.crt").write_text("not a certificate")
    with pytest.raises(TlsError, match="not a PEM"):
        tls.check_certificate(tmp_path / "junk.crt", key)
    with pytest.raises(TlsError, match="not an unencrypted PEM private key"):
        tls.check_certificate(cert, tmp_path / "junk.crt")


def test_mesh_up_refuses_an_expired_edge_certificate_before_starting_anything(
    ca: LocalCA, tmp_path: Path
) -> None:
    issued = ca.issue(not_before=NOW - dt.timedelta(days=3), not_after=NOW - dt.timedelta(days=1))
    cert, key = _write(issued, tmp_path)
    layout = cli_mesh.Layout(home=tmp_path / "home", base_port=cli_mesh.find_free_base_port())
    env = {"KTRDR_GATEWAY_TLS_CERT": str(cert), "KTRDR_GATEWAY_TLS_KEY": str(key)}
    with pytest.raises(cli_mesh.MeshError, match="expired") as info:
        cli_mesh.up(layout, base_env={**os.environ, **env}, timeout=10)
    assert str(cert) in str(info.value)
    assert not layout.state_file.exists()


def test_the_tls_listener_takes_its_certificate_from_the_sds_file(
    ca: LocalCA, tmp_path: Path
) -> None:
    cert, key = _write(ca.issue(), tmp_path)
    upstreams = {s: envoy_config.Upstream("127.0.0.1", 1) for s in cli_mesh.SERVICES}
    cfg = envoy_config.GatewayConfig(upstreams=upstreams, tls_cert=str(cert), tls_key=str(key))
    path = envoy_config.write(cfg, tmp_path / "out")
    listener = json.loads(path.read_text())["static_resources"]["listeners"][0]
    context = listener["filter_chains"][0]["transport_socket"]["typed_config"]
    common = context["common_tls_context"]
    assert common["tls_params"]["tls_minimum_protocol_version"] == "TLSv1_2"
    assert "tls_certificates" not in common  # no static certificate: SDS only
    sds_path = common["tls_certificate_sds_secret_configs"][0]["sds_config"]
    sds = json.loads(Path(sds_path["path_config_source"]["path"]).read_text())
    resource = sds["resources"][0]["tls_certificate"]
    assert resource["certificate_chain"]["filename"] == str(cert)
    assert resource["watched_directory"]["path"] == str(tmp_path)


# --- the sealed key store ------------------------------------------------------------------


def test_a_sealed_store_holds_no_key_or_hash_and_the_view_serves_the_edge(
    tmp_path: Path,
) -> None:
    home = tmp_path / "home"
    store = keys.open_store(home, Keyring(KEY), runtime_dir=tmp_path / "shm")
    key, record = store.create("trade", "ci")
    on_disk = keys.store_path(home).read_bytes()
    assert sealed.is_sealed(on_disk)
    for clear in (key, record.key_hash, record.key_id, KEY.to_text(), "trade"):
        assert clear.encode() not in on_disk
    assert KEY.material not in on_disk
    assert stat.S_IMODE(keys.store_path(home).stat().st_mode) == 0o600
    assert store.view is not None and store.view.is_relative_to(tmp_path / "shm")
    view = store.view.read_text()
    assert record.key_hash in view  # the plain table Envoy reads is in memory-backed storage
    assert stat.S_IMODE(store.view.parent.stat().st_mode) == 0o700
    assert keys.open_store(home, Keyring(KEY)).verify(key) == record


def test_a_wrong_key_refuses_the_store_and_never_overwrites_it(tmp_path: Path) -> None:
    home = tmp_path / "home"
    keys.open_store(home, Keyring(KEY), runtime_dir=tmp_path / "shm").create("read")
    before = keys.store_path(home).read_bytes()
    wrong = keys.open_store(home, Keyring(OTHER), runtime_dir=tmp_path / "shm")
    with pytest.raises(sealed.WrongKeyError, match="API key store"):
        wrong.refresh_view()
    with pytest.raises(sealed.WrongKeyError):
        keys.ensure_dev_key(home, wrong)
    with pytest.raises(sealed.NoKeyError, match="KTRDR_ENCRYPTION_KEY_FILE"):
        keys.ensure_dev_key(home, keys.open_store(home, None))
    assert keys.store_path(home).read_bytes() == before


def test_a_tampered_store_is_data_loss_naming_it(tmp_path: Path) -> None:
    home = tmp_path / "home"
    store = keys.open_store(home, Keyring(KEY), runtime_dir=tmp_path / "shm")
    store.create("read")
    blob = bytearray(keys.store_path(home).read_bytes())
    blob[40] ^= 1
    keys.store_path(home).write_bytes(bytes(blob))
    with pytest.raises(sealed.TamperedError) as info:
        store.records()
    assert str(keys.store_path(home)) in info.value.message


def test_turning_encryption_on_seals_a_plain_store_and_dev_key_and_rotation_reseals(
    tmp_path: Path,
) -> None:
    home = tmp_path / "home"
    plain = keys.open_store(home)
    keys.ensure_dev_key(home, plain)
    dev_key = keys.dev_key_path(home).read_text().strip()

    on = keys.open_store(home, Keyring(OTHER), runtime_dir=tmp_path / "shm")
    on.refresh_view()
    path = keys.ensure_dev_key(home, on)
    assert path == keys.sealed_dev_key_path(home) and not keys.dev_key_path(home).exists()
    assert dev_key.encode() not in path.read_bytes()
    assert keys.read_dev_key(home, Keyring(OTHER)) == dev_key
    assert sealed.key_id_of(keys.store_path(home).read_bytes()) == OTHER.key_id

    rotating = keys.open_store(home, Keyring(KEY, [OTHER]), runtime_dir=tmp_path / "shm")
    rotating.refresh_view()
    keys.ensure_dev_key(home, rotating)
    assert sealed.key_id_of(keys.store_path(home).read_bytes()) == KEY.key_id
    assert keys.open_store(home, Keyring(KEY)).verify(dev_key) is not None
    assert keys.read_dev_key(home, Keyring(KEY)) == dev_key  # re-sealed: the old key can go
    assert sealed.key_id_of(keys.sealed_dev_key_path(home).read_bytes()) == KEY.key_id


def test_the_gateway_process_gets_no_encryption_key_and_reads_the_view(tmp_path: Path) -> None:
    key_file = tmp_path / "encryption.key"
    key_file.write_text(KEY.to_text() + "\n")
    layout = cli_mesh.Layout(home=tmp_path / "home", base_port=cli_mesh.find_free_base_port())
    env = {
        "KTRDR_HOME": str(layout.home),
        "KTRDR_ENCRYPTION_KEY_FILE": str(key_file),
        "KTRDR_GATEWAY_RUNTIME_DIR": str(tmp_path / "shm"),
    }
    (spec,) = gateway_mesh.processes(layout, env)
    assert not any(k.startswith("KTRDR_ENCRYPTION") for k in spec.env)
    assert KEY.to_text() not in " ".join(spec.argv)
    config = (keys.gateway_dir(layout.home) / "envoy.json").read_text()
    assert str(tmp_path / "shm") in config and str(keys.store_path(layout.home)) not in config
    assert keys.read_dev_key(layout.home, Keyring(KEY))


def test_check_tls_exits_1_naming_an_expired_certificate(ca: LocalCA, tmp_path: Path) -> None:
    from ktrdr_gateway.__main__ import main

    good_cert, good_key = _write(ca.issue(), tmp_path, "good")
    assert main(["check-tls", "--cert", str(good_cert), "--key", str(good_key)]) == 0
    issued = ca.issue(not_before=NOW - dt.timedelta(days=9), not_after=NOW - dt.timedelta(days=2))
    cert, key = _write(issued, tmp_path, "old")
    assert main(["check-tls", "--cert", str(cert), "--key", str(key)]) == 1
