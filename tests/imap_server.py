"""A scripted IMAP4rev1 server over real sockets on 127.0.0.1, with TLS from a test CA.

It speaks the part of RFC 3501 the poller uses (CAPABILITY, STARTTLS, LOGIN, SELECT,
UID SEARCH UNSEEN, UID FETCH (RFC822.SIZE) / (BODY.PEEK[]), UID STORE +FLAGS (\\Seen),
NOOP, LOGOUT), keeps a mailbox of messages with flags, and logs every command it gets.
"""

from __future__ import annotations

import datetime
import ipaddress
import re
import socket
import socketserver
import ssl
import threading
from dataclasses import dataclass, field
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

TOKEN = re.compile(rb'"((?:[^"\\]|\\.)*)"|(\S+)')


@dataclass
class Message:
    uid: int
    raw: bytes
    seen: bool = False


@dataclass
class Store:
    username: str
    password: str
    folder: str = "INBOX"
    uid_validity: int = 1001
    messages: list[Message] = field(default_factory=list)
    commands: list[str] = field(default_factory=list)
    next_uid: int = 1

    def add(self, raw: bytes) -> int:
        uid = self.next_uid
        self.next_uid += 1
        self.messages.append(Message(uid, raw))
        return uid

    def by_uid(self, uid: int) -> tuple[int, Message] | None:
        for seq, message in enumerate(self.messages, start=1):
            if message.uid == uid:
                return seq, message
        return None


@dataclass
class Pki:
    ca_file: Path
    server: ssl.SSLContext


def make_pki(directory: Path, *, host: str = "localhost") -> Pki:
    """A CA, and a server certificate it signs for ``host`` and 127.0.0.1."""
    now = datetime.datetime.now(datetime.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Servicedesk test CA")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(hours=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, host)]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(hours=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName(host), x509.IPAddress(ipaddress.IPv4Address("127.0.0.1"))]
            ),
            critical=False,
        )
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
            critical=False,
        )
        .sign(ca_key, hashes.SHA256())
    )
    directory.mkdir(parents=True, exist_ok=True)
    ca_file = directory / "ca.pem"
    ca_file.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    chain = directory / "server.pem"
    chain.write_bytes(
        cert.public_bytes(serialization.Encoding.PEM)
        + key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(chain)
    return Pki(ca_file, context)


def _args(rest: bytes) -> list[bytes]:
    return [
        re.sub(rb"\\(.)", rb"\1", m[1]) if m[1] is not None else m[2] for m in TOKEN.finditer(rest)
    ]


class _Handler(socketserver.StreamRequestHandler):
    server: ImapServer

    def setup(self) -> None:
        # As IMAP servers do: a reply's lines must not wait for the client's delayed ACK.
        self.request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if self.server.implicit_tls:
            self.request = self.server.pki.server.wrap_socket(self.request, server_side=True)
        super().setup()

    def send(self, line: bytes) -> None:
        self.wfile.write(line + b"\r\n")
        self.wfile.flush()

    def handle(self) -> None:
        store = self.server.store
        self.tls = self.server.implicit_tls
        self.authenticated = False
        self.selected = False
        self.send(b"* OK IMAP4rev1 scripted server ready")
        while True:
            line = self.rfile.readline(65536)
            if not line:
                return
            tag, _, rest = line.rstrip(b"\r\n").partition(b" ")
            command, _, rest = rest.partition(b" ")
            name = command.upper().decode()
            if name == "UID":
                sub, _, rest = rest.partition(b" ")
                name = f"UID {sub.upper().decode()}"
            with self.server.lock:
                store.commands.append(name)
            if not self.dispatch(tag, name, rest):
                return

    def dispatch(self, tag: bytes, name: str, rest: bytes) -> bool:  # noqa: C901
        store = self.server.store
        if name == "CAPABILITY":
            extra = b" STARTTLS" if not self.tls and self.server.offer_starttls else b""
            self.send(b"* CAPABILITY IMAP4rev1" + extra)
            self.send(tag + b" OK CAPABILITY completed")
        elif name == "NOOP":
            self.send(tag + b" OK NOOP completed")
        elif name == "STARTTLS" and not self.tls and self.server.offer_starttls:
            self.send(tag + b" OK Begin TLS negotiation now")
            self.request = self.server.pki.server.wrap_socket(self.request, server_side=True)
            self.rfile = self.request.makefile("rb")
            self.wfile = self.request.makefile("wb")
            self.tls = True
        elif name == "LOGOUT":
            self.send(b"* BYE logging out")
            self.send(tag + b" OK LOGOUT completed")
            return False
        elif name == "LOGIN":
            user, password = (a.decode() for a in _args(rest)[:2])
            if user == store.username and password == store.password:
                self.authenticated = True
                self.send(tag + b" OK LOGIN completed")
            else:
                self.send(tag + b" NO [AUTHENTICATIONFAILED] Invalid credentials")
        elif not self.authenticated:
            self.send(tag + b" BAD not authenticated")
        elif name == "SELECT":
            folder = _args(rest)[0].decode()
            if folder != store.folder:
                self.send(tag + b" NO [NONEXISTENT] no such mailbox")
                return True
            self.selected = True
            self.send(f"* {len(store.messages)} EXISTS".encode())
            self.send(b"* FLAGS (\\Seen \\Answered \\Flagged \\Deleted \\Draft)")
            self.send(f"* OK [UIDVALIDITY {store.uid_validity}] UIDs valid".encode())
            self.send(f"* OK [UIDNEXT {store.next_uid}] next".encode())
            self.send(tag + b" OK [READ-WRITE] SELECT completed")
        elif not self.selected:
            self.send(tag + b" BAD no mailbox selected")
        elif name == "UID SEARCH" and rest.upper() == b"UNSEEN":
            with self.server.lock:
                uids = [str(m.uid).encode() for m in store.messages if not m.seen]
            self.send(b" ".join([b"* SEARCH", *uids]))
            self.send(tag + b" OK SEARCH completed")
        elif name == "UID FETCH":
            self.fetch(tag, rest)
        elif name == "UID STORE":
            self.store_flags(tag, rest)
        else:
            self.send(tag + b" BAD unknown command")
        return True

    def fetch(self, tag: bytes, rest: bytes) -> None:
        store = self.server.store
        uid_set, _, items = rest.partition(b" ")
        for uid in (int(u) for u in uid_set.split(b",")):
            found = store.by_uid(uid)
            if found is None:
                continue
            seq, message = found
            if items.upper() == b"(RFC822.SIZE)":
                self.send(f"* {seq} FETCH (UID {uid} RFC822.SIZE {len(message.raw)})".encode())
            elif items.upper() == b"(BODY.PEEK[])":
                head = f"* {seq} FETCH (UID {uid} BODY[] {{{len(message.raw)}}}".encode()
                self.wfile.write(head + b"\r\n" + message.raw + b")\r\n")
                self.wfile.flush()
            else:
                self.send(tag + b" BAD unsupported fetch")
                return
        self.send(tag + b" OK FETCH completed")

    def store_flags(self, tag: bytes, rest: bytes) -> None:
        store = self.server.store
        uid, _, change = rest.partition(b" ")
        if change.upper() != b"+FLAGS (\\SEEN)":
            self.send(tag + b" BAD unsupported store")
            return
        found = store.by_uid(int(uid))
        if found is not None:
            with self.server.lock:
                found[1].seen = True
            self.send(f"* {found[0]} FETCH (UID {int(uid)} FLAGS (\\Seen))".encode())
        self.send(tag + b" OK STORE completed")


class ImapServer(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(
        self, store: Store, pki: Pki, *, implicit_tls: bool = True, offer_starttls: bool = True
    ) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.store = store
        self.pki = pki
        self.implicit_tls = implicit_tls
        self.offer_starttls = offer_starttls
        self.lock = threading.Lock()
        self.thread = threading.Thread(target=self.serve_forever, daemon=True)

    @property
    def port(self) -> int:
        return int(self.server_address[1])

    def __enter__(self) -> ImapServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.shutdown()
        self.server_close()


__all__ = ["ImapServer", "Message", "Pki", "Store", "make_pki"]
