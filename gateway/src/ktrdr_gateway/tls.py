"""The edge's TLS: the certificate checked at start-up, served through Envoy SDS from files.

Envoy reads the certificate and key through a file-based SDS resource (``edge-cert-sds.json``
next to ``envoy.json``) and watches the certificate's directory: replacing the files by a
rename (``mv``, or a Kubernetes Secret update, which swaps the mount's ``..data`` link) makes
Envoy serve the new certificate without a restart. A replacement whose key does not match its
certificate is refused by Envoy, which keeps serving the previous one.

:func:`check_certificate` runs before Envoy starts (``ktrdr mesh up``; ``python -m
ktrdr_gateway check-tls`` in a pod) so an expired, not-yet-valid or mismatched certificate is a
clear start-up error naming the file instead of a handshake failure later.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from pathlib import Path
from typing import Any

SDS_SECRET_NAME = "ktrdr_edge_certificate"  # nosec B105 # a resource name, not a secret
SDS_FILE = "edge-cert-sds.json"
# TLS 1.2 is the minimum, 1.3 preferred (the client picks the highest both speak); TLS 1.2
# ciphers are limited to forward-secret AEAD suites.
MIN_TLS = "TLSv1_2"
MAX_TLS = "TLSv1_3"
TLS12_CIPHERS = (
    "ECDHE-ECDSA-AES128-GCM-SHA256",
    "ECDHE-RSA-AES128-GCM-SHA256",
    "ECDHE-ECDSA-AES256-GCM-SHA384",
    "ECDHE-RSA-AES256-GCM-SHA384",
    "ECDHE-ECDSA-CHACHA20-POLY1305",
    "ECDHE-RSA-CHACHA20-POLY1305",
)


class TlsError(ValueError):
    """The edge's certificate or key cannot be used; the message names the file."""


@dataclasses.dataclass(frozen=True)
class CertificateInfo:
    subject: str
    not_after: dt.datetime
    days_left: float


def check_certificate(
    cert_path: str | Path, key_path: str | Path, *, now: dt.datetime | None = None
) -> CertificateInfo:
    """Check that the certificate is readable, valid now and matches the private key.

    Raises
    ------
    TlsError
        Naming the file at fault: unreadable, not PEM, expired, not yet valid, or a key that
        is not the certificate's.
    """
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization

    cert_file, key_file = Path(cert_path), Path(key_path)
    try:
        cert = x509.load_pem_x509_certificate(cert_file.read_bytes())
    except OSError as exc:
        raise TlsError(f"TLS certificate {cert_file}: cannot read it ({exc.strerror})") from None
    except ValueError:
        raise TlsError(f"TLS certificate {cert_file} is not a PEM X.509 certificate") from None
    try:
        key = serialization.load_pem_private_key(key_file.read_bytes(), password=None)
    except OSError as exc:
        raise TlsError(f"TLS private key {key_file}: cannot read it ({exc.strerror})") from None
    except (ValueError, TypeError):
        raise TlsError(
            f"TLS private key {key_file} is not an unencrypted PEM private key"
        ) from None
    moment = now or dt.datetime.now(dt.UTC)
    not_after, not_before = cert.not_valid_after_utc, cert.not_valid_before_utc
    subject = cert.subject.rfc4514_string()
    if moment >= not_after:
        raise TlsError(
            f"TLS certificate {cert_file} ({subject}) expired on {not_after:%Y-%m-%d %H:%M} UTC; "
            "install a renewed certificate"
        )
    if moment < not_before:
        raise TlsError(
            f"TLS certificate {cert_file} ({subject}) is not valid before "
            f"{not_before:%Y-%m-%d %H:%M} UTC"
        )
    public = serialization.PublicFormat.SubjectPublicKeyInfo
    der = serialization.Encoding.DER
    if key.public_key().public_bytes(der, public) != cert.public_key().public_bytes(der, public):
        raise TlsError(
            f"TLS private key {key_file} does not belong to the certificate {cert_file} "
            f"({subject}): install the key the certificate was issued for"
        )
    days = (not_after - moment).total_seconds() / 86400
    return CertificateInfo(subject=subject, not_after=not_after, days_left=days)


def sds_resource(cert_path: str, key_path: str) -> dict[str, Any]:
    """The SDS discovery response Envoy reads the certificate through (a file it watches)."""
    tls_certificate: dict[str, Any] = {
        "certificate_chain": {"filename": cert_path},
        "private_key": {"filename": key_path},
    }
    cert_dir, key_dir = Path(cert_path).parent, Path(key_path).parent
    if cert_dir == key_dir:
        # One watch for both files, which also sees a Kubernetes Secret's ..data link swap.
        tls_certificate["watched_directory"] = {"path": str(cert_dir)}
    return {
        "resources": [
            {
                "@type": "type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.Secret",
                "name": SDS_SECRET_NAME,
                "tls_certificate": tls_certificate,
            }
        ]
    }


def write_sds(cert_path: str, key_path: str, out_dir: Path) -> Path:
    """Write the SDS file next to ``envoy.json``; returns its path."""
    path = out_dir / SDS_FILE
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(sds_resource(cert_path, key_path), indent=1))
    tmp.replace(path)
    return path


def downstream_tls(sds_path: str) -> dict[str, Any]:
    """The listener's transport socket: TLS 1.2+ (1.3 preferred), certificate from SDS."""
    return {
        "name": "envoy.transport_sockets.tls",
        "typed_config": {
            "@type": "type.googleapis.com/envoy.extensions.transport_sockets.tls.v3"
            ".DownstreamTlsContext",
            "common_tls_context": {
                "alpn_protocols": ["h2", "http/1.1"],
                "tls_params": {
                    "tls_minimum_protocol_version": MIN_TLS,
                    "tls_maximum_protocol_version": MAX_TLS,
                    "cipher_suites": list(TLS12_CIPHERS),
                },
                "tls_certificate_sds_secret_configs": [
                    {
                        "name": SDS_SECRET_NAME,
                        "sds_config": {
                            "path_config_source": {"path": sds_path},
                            "resource_api_version": "V3",
                        },
                    }
                ],
            },
        },
    }


# --- a local certificate authority (development HTTPS, tests) ----------------------------


@dataclasses.dataclass(frozen=True)
class Issued:
    """A certificate and its private key, PEM-encoded."""

    cert_pem: bytes
    key_pem: bytes = dataclasses.field(repr=False)

    def write(self, cert_path: Path, key_path: Path) -> None:
        """Write both owner-only, each by a rename (so a watching Envoy sees whole files)."""
        for path, data in ((key_path, self.key_pem), (cert_path, self.cert_pem)):
            tmp = path.with_name(f".{path.name}.tmp")
            tmp.write_bytes(data)
            tmp.chmod(0o600)
            tmp.replace(path)


class LocalCA:
    """A self-signed certificate authority that issues server certificates (ECDSA, secp256r1).

    For local HTTPS (``ktrdr security dev-cert``) and the tests; production certificates come
    from the cluster's issuer (e.g. cert-manager) as a Kubernetes TLS Secret.
    """

    def __init__(self, name: str = "KTRDR local CA", *, days: int = 365) -> None:
        from cryptography import x509
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.asymmetric import ec
        from cryptography.x509.oid import NameOID

        self._key = ec.generate_private_key(ec.SECP256R1())
        subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
        now = dt.datetime.now(dt.UTC)
        self.cert = (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(subject)
            .public_key(self._key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + dt.timedelta(days=days))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(
                x509.KeyUsage(
                    digital_signature=True,
                    key_cert_sign=True,
                    crl_sign=True,
                    content_commitment=False,
                    key_encipherment=False,
                    data_encipherment=False,
                    key_agreement=False,
                    encipher_only=False,
                    decipher_only=False,
                ),
                critical=True,
            )
            .sign(self._key, hashes.SHA256())
        )

    @property
    def cert_pem(self) -> bytes:
        from cryptography.hazmat.primitives import serialization

        return self.cert.public_bytes(serialization.Encoding.PEM)

    def issue(
        self,
        hosts: tuple[str, ...] = ("localhost", "127.0.0.1"),
        *,
        not_before: dt.datetime | None = None,
        not_after: dt.datetime | None = None,
        common_name: str | None = None,
    ) -> Issued:
        """A server certificate for ``hosts`` (DNS names and IP addresses), valid 30 days by
        default."""
        import ipaddress

        from cryptography import x509
        from cryptography.hazmat.primitives import hashes, serialization
        from cryptography.hazmat.primitives.asymmetric import ec
        from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

        key = ec.generate_private_key(ec.SECP256R1())
        now = dt.datetime.now(dt.UTC)
        names: list[x509.GeneralName] = []
        for host in hosts:
            try:
                names.append(x509.IPAddress(ipaddress.ip_address(host)))
            except ValueError:
                names.append(x509.DNSName(host))
        cn = common_name or hosts[0]
        cert = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)]))
            .issuer_name(self.cert.subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(not_before or now - dt.timedelta(minutes=5))
            .not_valid_after(not_after or now + dt.timedelta(days=30))
            .add_extension(x509.SubjectAlternativeName(names), critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(
                x509.ExtendedKeyUsage(
                    [ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]
                ),
                critical=False,
            )
            .sign(self._key, hashes.SHA256())
        )
        key_pem = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        return Issued(cert.public_bytes(serialization.Encoding.PEM), key_pem)
