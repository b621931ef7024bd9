"""A real OpenLDAP server (Debian's ``slapd``) for the directory sign-in tests.

Started on 127.0.0.1 on two free ports (LDAPS, and plain LDAP for StartTLS) with a
temporary ``slapd.conf`` and MDB database, TLS from a CA and server certificate made
here (``tests/imap_server.make_pki``), the ``memberof`` overlay, and seeded over LDAP as
the root DN. ``make slapd`` installs it (apt-get); without it the tests are skipped.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.imap_server import make_pki

SLAPD = "/usr/sbin/slapd"
MODULES = "/usr/lib/ldap"
SCHEMA = "/etc/ldap/schema"
BASE = "dc=example,dc=org"
ROOT_DN = f"cn=admin,{BASE}"
ROOT_PASSWORD = "root-secret"
SERVICE_DN = f"cn=desk-service,{BASE}"
SERVICE_PASSWORD = "service-secret"
PEOPLE = f"ou=people,{BASE}"
GROUPS = f"ou=groups,{BASE}"


def available() -> bool:
    return Path(SLAPD).exists() and Path(f"{MODULES}/back_mdb.la").exists()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


CONFIG = """\
include {schema}/core.schema
include {schema}/cosine.schema
include {schema}/nis.schema
include {schema}/inetorgperson.schema
modulepath {modules}
moduleload back_mdb
moduleload memberof
pidfile {root}/slapd.pid
TLSCACertificateFile {ca}
TLSCertificateFile {cert}
TLSCertificateKeyFile {cert}
database mdb
maxsize 10485760
suffix "{base}"
rootdn "{root_dn}"
rootpw {root_password}
directory {root}/db
overlay memberof
access to attrs=userPassword
  by self =xw
  by anonymous auth
  by * none
access to *
  by dn.exact="{service_dn}" read
  by self read
  by * none
"""


@dataclass
class Slapd:
    root: Path
    ldaps_port: int
    ldap_port: int
    ca_pem: str
    process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        (self.root / "db").mkdir(parents=True, exist_ok=True)
        conf = self.root / "slapd.conf"
        conf.write_text(
            CONFIG.format(
                schema=SCHEMA,
                modules=MODULES,
                root=self.root,
                ca=self.root / "pki" / "ca.pem",
                cert=self.root / "pki" / "server.pem",
                base=BASE,
                root_dn=ROOT_DN,
                root_password=ROOT_PASSWORD,
                service_dn=SERVICE_DN,
            )
        )
        urls = f"ldaps://127.0.0.1:{self.ldaps_port}/ ldap://127.0.0.1:{self.ldap_port}/"
        log = (self.root / "slapd.log").open("wb")
        self.process = subprocess.Popen(
            [SLAPD, "-d", "0", "-f", str(conf), "-h", urls],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError((self.root / "slapd.log").read_text()[-2000:])
            try:
                with socket.create_connection(("127.0.0.1", self.ldaps_port), timeout=0.2):
                    return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("slapd did not start")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def admin(self) -> Any:
        """A connection bound as the root DN (over StartTLS), to seed and change entries."""
        import ssl

        from ldap3 import Connection, Server, Tls

        tls = Tls(validate=ssl.CERT_REQUIRED, ca_certs_data=self.ca_pem)
        conn = Connection(
            Server("127.0.0.1", port=self.ldap_port, tls=tls, connect_timeout=5),
            user=ROOT_DN,
            password=ROOT_PASSWORD,
            raise_exceptions=True,
        )
        conn.open()
        conn.start_tls()
        conn.bind()
        return conn

    def add_person(self, conn: Any, uid: str, password: str, *, mail: str | None = None) -> str:
        dn = f"uid={uid},{PEOPLE}"
        attributes: dict[str, Any] = {
            "cn": uid,
            "sn": uid,
            "displayName": f"{uid.title()} Person",
            "userPassword": password,
        }
        if mail:
            attributes["mail"] = mail
        conn.add(dn, ["inetOrgPerson"], attributes)
        return dn

    def set_members(self, group: str, members: list[str]) -> None:
        from ldap3 import MODIFY_REPLACE

        conn = self.admin()
        try:
            conn.modify(f"cn={group},{GROUPS}", {"member": [(MODIFY_REPLACE, members)]})
        finally:
            conn.unbind()


def seed(server: Slapd) -> None:
    conn = server.admin()
    try:
        conn.add(BASE, ["dcObject", "organization"], {"o": "Example", "dc": "example"})
        conn.add(
            SERVICE_DN,
            ["simpleSecurityObject", "organizationalRole"],
            {"cn": "desk-service", "userPassword": SERVICE_PASSWORD},
        )
        conn.add(PEOPLE, ["organizationalUnit"], {"ou": "people"})
        conn.add(GROUPS, ["organizationalUnit"], {"ou": "groups"})
    finally:
        conn.unbind()


def start(root: Path) -> Slapd:
    if root.exists():
        shutil.rmtree(root)
    pki = make_pki(root / "pki", host="localhost")
    server = Slapd(root, _free_port(), _free_port(), pki.ca_file.read_text())
    server.start()
    try:
        seed(server)
    except BaseException:
        server.stop()
        raise
    return server
