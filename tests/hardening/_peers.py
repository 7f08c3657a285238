"""Hostile peers on 127.0.0.1 for the hardening tests: raw TCP servers, stopped when their block ends."""

from __future__ import annotations

import contextlib
import datetime
import ipaddress
import socket
import ssl
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

Handler = Callable[[socket.socket, bytes, threading.Event], None]


@dataclass
class Peer:
    """A running raw server: its base URL and the requests it received."""

    url: str
    requests: list[bytes] = field(default_factory=list)

    @property
    def port(self) -> int:
        return int(self.url.rsplit(":", 1)[1])


@contextmanager
def raw_server(handler: Handler, *, read_first: bool = True) -> Iterator[Peer]:
    """A loopback server calling ``handler(conn, request, stop)`` per connection; ``stop`` is set when it ends.

    With ``read_first=False`` the handler starts at once (a peer that speaks first, as in a TLS handshake drip).
    """
    listener = socket.socket()
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", 0))
    listener.listen(32)
    listener.settimeout(0.1)
    stop = threading.Event()
    workers: list[threading.Thread] = []
    peer = Peer(f"http://127.0.0.1:{listener.getsockname()[1]}")

    def run(conn: socket.socket) -> None:
        with conn:
            try:
                conn.settimeout(5)
                if not read_first:
                    handler(conn, b"", stop)
                    return
                request = read_request(conn)
                if request:  # a bare connect (the harness's preflight) sends nothing
                    peer.requests.append(request)
                    handler(conn, request, stop)
            except OSError:
                pass

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            worker = threading.Thread(target=run, args=(conn,), daemon=True)
            workers.append(worker)
            worker.start()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield peer
    finally:
        stop.set()
        thread.join(timeout=5)
        listener.close()
        for worker in workers:
            worker.join(timeout=5)


def read_request(conn: socket.socket) -> bytes:
    """The request head and as much of the body as Content-Length announces."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(65536)
        if not chunk:
            return data
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip())
    while len(body) < length:
        chunk = conn.recv(65536)
        if not chunk:
            break
        body += chunk
    return head + b"\r\n\r\n" + body


def drip(data: bytes, every: float = 0.3) -> Handler:
    """Send ``data`` one byte at a time (a slow-loris peer), until the client hangs up or the server stops."""

    def handler(conn: socket.socket, request: bytes, stop: threading.Event) -> None:
        for byte in data:
            conn.sendall(bytes([byte]))
            if stop.wait(every):
                return

    return handler


def respond(status: str, body: bytes, headers: dict[str, str] | None = None) -> Handler:
    """A fixed HTTP/1.1 response."""
    lines = [f"HTTP/1.1 {status}", f"Content-Length: {len(body)}", "Connection: close"]
    lines += [f"{name}: {value}" for name, value in (headers or {}).items()]

    def handler(conn: socket.socket, request: bytes, stop: threading.Event) -> None:
        conn.sendall(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body)

    return handler


def stream(head: bytes, chunk: bytes, total: int) -> Handler:
    """A head, then ``chunk`` repeated up to ``total`` bytes, until the client hangs up."""

    def handler(conn: socket.socket, request: bytes, stop: threading.Event) -> None:
        conn.sendall(head)
        sent = 0
        while sent < total and not stop.is_set():
            conn.sendall(chunk)
            sent += len(chunk)

    return handler


# -- a throw-away certificate authority ---------------------------------------------------------------------------
@dataclass
class Pki:
    """A CA, a server certificate for 127.0.0.1, and a client certificate, as PEM files in one folder."""

    ca: Path
    server_cert: Path
    server_key: Path
    client_cert: Path
    client_key: Path

    def server_context(self, *, require_client_cert: bool = False) -> ssl.SSLContext:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(self.server_cert, self.server_key)
        if require_client_cert:
            context.verify_mode = ssl.CERT_REQUIRED
            context.load_verify_locations(self.ca)
        return context


def make_pki(folder: Path) -> Pki:
    """Make a CA and sign a server leaf (SAN 127.0.0.1 and localhost) and a client leaf with it."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    now = datetime.datetime.now(datetime.UTC)

    def name(text: str) -> x509.Name:
        return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, text)])

    def write_key(key: ec.EllipticCurvePrivateKey, path: Path) -> Path:
        path.write_bytes(
            key.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            )
        )
        return path

    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_cert = (
        x509.CertificateBuilder()
        .subject_name(name("webhook-harness test CA"))
        .issuer_name(name("webhook-harness test CA"))
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(True, False, False, False, False, True, True, False, False), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )

    def leaf(
        common: str, usage: x509.ObjectIdentifier, san: bool
    ) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
        key = ec.generate_private_key(ec.SECP256R1())
        builder = (
            x509.CertificateBuilder()
            .subject_name(name(common))
            .issuer_name(ca_cert.subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
        )
        if san:
            builder = builder.add_extension(
                x509.SubjectAlternativeName(
                    [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
                ),
                critical=False,
            )
        return builder.sign(ca_key, hashes.SHA256()), key

    server, server_key = leaf("127.0.0.1", ExtendedKeyUsageOID.SERVER_AUTH, True)
    client, client_key = leaf("webhook-harness client", ExtendedKeyUsageOID.CLIENT_AUTH, False)
    pem = serialization.Encoding.PEM
    (folder / "ca.pem").write_bytes(ca_cert.public_bytes(pem))
    (folder / "server.pem").write_bytes(server.public_bytes(pem))
    (folder / "client.pem").write_bytes(client.public_bytes(pem))
    return Pki(
        folder / "ca.pem",
        folder / "server.pem",
        write_key(server_key, folder / "server.key"),
        folder / "client.pem",
        write_key(client_key, folder / "client.key"),
    )


@contextlib.contextmanager
def silent_server() -> Iterator[tuple[str, threading.Event]]:
    """A receiver that accepts connections and never answers; the event is set once a second connection arrives
    (the first is a run's preflight, so the second is a delivery)."""
    server = socket.create_server(("127.0.0.1", 0))
    server.settimeout(0.2)
    held: list[socket.socket] = []
    stop, arrived = threading.Event(), threading.Event()

    def accept() -> None:
        while not stop.is_set():
            try:
                conn, _ = server.accept()
            except (TimeoutError, OSError):
                continue
            held.append(conn)
            if len(held) > 1:
                arrived.set()

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.getsockname()[1]}/hook", arrived
    finally:
        stop.set()
        thread.join(timeout=5)
        for conn in held:
            conn.close()
        server.close()
