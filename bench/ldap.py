"""The directory sign-in's network cost: what ``identity/directory.py`` spends against a
real OpenLDAP per sign-in, LDAPS and StartTLS.

Setup: Debian's slapd on 127.0.0.1 (``tests/ldap_server.py``: a temporary configuration,
MDB, the memberof overlay, a CA and server certificate made here), one person in one
group. No database, no HTTP: the directory steps only (what the login adds to a password
sign-in's database work, docs/benchmarks.md "Two-step verification" for that part).

Measurement, per mode, ``--rounds`` times after 3 warm-up rounds: ``find`` (connect, TLS
handshake with the certificate and host name checked, service bind, the user search with
``memberOf``, unbind: the test route), the sign-in as shipped (``authenticate``: the same,
then a bind as the person on that connection), the first version's two connections
(``find``, then a second connection and TLS handshake for the person's bind), a wrong
password, and the directory down (a closed port: connection refused). Median and p90
wall milliseconds.

    .venv/bin/python -m bench.ldap [--rounds N]
"""

from __future__ import annotations

import argparse
import os
import platform
import socket
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from servicedesk.identity import directory
from servicedesk.identity.directory import DirectoryUnavailable, LdapSettings
from tests import ldap_server


def _figures(samples: list[float]) -> str:
    ordered = sorted(samples)
    p90 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.9))]
    return f"median {statistics.median(ordered) * 1000:7.2f} ms   p90 {p90 * 1000:7.2f} ms"


def _time(fn: Callable[[], object], rounds: int) -> list[float]:
    for _ in range(3):
        fn()
    samples = []
    for _ in range(rounds):
        started = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - started)
    return samples


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _measure(mode: str, config: LdapSettings, group: str, rounds: int) -> None:
    password = ldap_server.SERVICE_PASSWORD
    person, ok = directory.authenticate(config, password, "bench", "Bench-pass-1")
    assert ok and person is not None and person.groups == (group,)

    def find() -> object:
        return directory.find(config, password, "bench")

    def sign_in() -> object:
        return directory.authenticate(config, password, "bench", "Bench-pass-1")

    def two_connections() -> object:  # the first version: a second connection for the bind
        found = directory.find(config, password, "bench")
        assert found is not None
        conn, bound = directory._open(config, found.dn, "Bench-pass-1")
        directory._close(conn)
        return bound

    def wrong() -> object:
        return directory.authenticate(config, password, "bench", "wrong")

    print(f"{mode:8s} find      {_figures(_time(find, rounds))}  (test route: bind + search)")
    print(f"{mode:8s} sign-in   {_figures(_time(sign_in, rounds))}  (one connection, rebind)")
    print(f"{mode:8s} 2 conns   {_figures(_time(two_connections, rounds))}  (second connection)")
    print(f"{mode:8s} wrong pw  {_figures(_time(wrong, rounds))}  (bind refused)")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=50)
    args = parser.parse_args()
    if not ldap_server.available():
        raise SystemExit("slapd is not installed: make slapd")
    with tempfile.TemporaryDirectory() as tmp:
        server = ldap_server.start(Path(tmp) / "slapd")
        try:
            conn = server.admin()
            dn = server.add_person(conn, "bench", "Bench-pass-1", mail="bench@corp.test")
            group = f"cn=bench,{ldap_server.GROUPS}"
            conn.add(group, ["groupOfNames"], {"cn": "bench", "member": [dn]})
            conn.unbind()
            print(
                f"machine: {platform.node()} {platform.machine()}, {os.cpu_count()} CPUs, "
                f"load {os.getloadavg()[0]:.2f}; rounds {args.rounds}"
            )
            for mode, port in (("ldaps", server.ldaps_port), ("starttls", server.ldap_port)):
                config = LdapSettings(
                    enabled=True,
                    host="127.0.0.1",
                    port=port,
                    mode=mode,
                    ca_certificate=server.ca_pem,
                    bind_dn=ldap_server.SERVICE_DN,
                    user_search_base=ldap_server.PEOPLE,
                )
                _measure(mode, config, group, args.rounds)
            down = LdapSettings(
                host="127.0.0.1", port=_closed_port(), bind_dn="cn=x", user_search_base="dc=x"
            )

            def unreachable() -> object:
                try:
                    directory.find(down, "x", "bench")
                except DirectoryUnavailable:
                    return None
                raise AssertionError("a closed port answered")

            print(
                f"{'down':8s} refused   {_figures(_time(unreachable, args.rounds))}  (closed port)"
            )
        finally:
            server.stop()


if __name__ == "__main__":
    main()
