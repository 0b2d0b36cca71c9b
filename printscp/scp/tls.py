"""DICOM over TLS for the printer's port (PS3.15 Annex B, the BCP 195 TLS profiles).

pynetdicom wraps each accepted socket with the server's `ssl.SSLContext` in its accept
thread; this module builds that context: the server's certificate and key, TLS 1.2 or
later, and, when CA certificates are given, a client certificate signed by one of them is
required (the peer authentication the BCP 195 profile asks for). The handshake gets a
deadline, so a client that connects and says nothing cannot hold the accept thread.
"""

from __future__ import annotations

import ssl
from pathlib import Path

HANDSHAKE_TIMEOUT = 10.0  # seconds a TLS client has to finish its handshake


class TLSSetupError(ValueError):
    """TLS cannot be set up from the files given; the message says which file and why."""


class _ServerContext(ssl.SSLContext):
    """A server context whose handshakes end after HANDSHAKE_TIMEOUT seconds."""

    handshake_timeout = HANDSHAKE_TIMEOUT

    def wrap_socket(self, sock, *args, **kwargs):
        timeout = sock.gettimeout()
        sock.settimeout(self.handshake_timeout)
        wrapped = super().wrap_socket(sock, *args, **kwargs)  # pynetdicom's accept thread: handshake now
        wrapped.settimeout(timeout)
        return wrapped


def server_context(cert: Path | None, key: Path | None, ca: Path | None = None) -> ssl.SSLContext:
    if cert is None or key is None:
        raise TLSSetupError("a TLS port needs the server certificate and its key (--tls-cert and --tls-key)")
    context = _ServerContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    try:
        context.load_cert_chain(str(cert), str(key))
    except FileNotFoundError as exc:  # load_cert_chain does not always name the file
        missing = exc.filename or next((str(p) for p in (cert, key) if not Path(p).is_file()), f"{cert} or {key}")
        raise TLSSetupError(f"TLS: no such file: {missing} (check --tls-cert and --tls-key)") from None
    except ssl.SSLError as exc:
        raise TLSSetupError(f"TLS: {cert} and {key} are not a PEM certificate and its key: {exc.reason or exc}") from None
    if ca is not None:
        try:
            context.load_verify_locations(cafile=str(ca))
        except FileNotFoundError:
            raise TLSSetupError(f"TLS: no such CA file: {ca}") from None
        except ssl.SSLError as exc:
            raise TLSSetupError(f"TLS: {ca} holds no usable PEM CA certificate: {exc.reason or exc}") from None
        context.verify_mode = ssl.CERT_REQUIRED
    return context


# ---- serve's command-line options (one group, kept here so cli.py only calls two functions) ----

def add_arguments(parser) -> None:
    from printscp import argtypes

    group = parser.add_argument_group(
        "DICOM TLS", "a TLS port beside the plain one (or instead of it, with --tls-only); TLS 1.2 or later")
    group.add_argument("--tls-port", type=argtypes.port, metavar="PORT", help="TCP port for DICOM over TLS (2762 is usual)")
    group.add_argument("--tls-cert", metavar="PEM", help="the server's certificate (chain), PEM")
    group.add_argument("--tls-key", metavar="PEM", help="the private key of --tls-cert, PEM, not encrypted")
    group.add_argument("--tls-ca", metavar="PEM",
                       help="CA certificates, PEM: clients must present a certificate signed by one of them")
    group.add_argument("--tls-only", action="store_true", help="no plain port: only --tls-port is served")


def apply(args, settings):
    """Settings with the TLS options of `args`; ValueError (exit 2) says what is missing."""
    import dataclasses
    from pathlib import Path

    given = [name for name in ("tls_cert", "tls_key", "tls_ca") if getattr(args, name, None)]
    if args.tls_port is None:
        if given or args.tls_only:
            raise ValueError(f"--{(given or ['tls_only'])[0].replace('_', '-')} needs --tls-port PORT")
        return settings
    if not args.tls_cert or not args.tls_key:
        raise ValueError("--tls-port needs --tls-cert and --tls-key (PEM files)")
    return dataclasses.replace(
        settings, tls_port=args.tls_port, tls_cert=Path(args.tls_cert), tls_key=Path(args.tls_key),
        tls_ca=Path(args.tls_ca) if args.tls_ca else None, port=None if args.tls_only else settings.port)
