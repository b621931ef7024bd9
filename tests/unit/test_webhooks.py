"""Webhooks without a receiver: the signature against docs/webhooks.md's test vectors and
recipe, malformed signature headers, the retry schedule, and the SSRF rules (the vetted
address is the one connected to; which addresses are refused). Deliveries end to end, over
the emulator's SQS to a local receiver, are in tests/integration/test_webhooks.py."""

from __future__ import annotations

import hashlib
import hmac
import ipaddress

import pytest

from servicedesk.webhooks import delivery, signing, ssrf
from tests.webhook_docs import VECTORS, recipe_verify

# --- signatures ---------------------------------------------------------------------------


@pytest.mark.parametrize("vector", VECTORS, ids=[v["name"] for v in VECTORS])
def test_documented_vectors_match_the_signer_and_the_recipe(vector):
    body = vector["body"].encode("utf-8")
    assert signing.sign(vector["secrets"], vector["timestamp"], body) == vector["header"]
    for secret in vector["secrets"]:
        assert recipe_verify(secret, vector["header"], body, now=vector["timestamp"])
        assert signing.verify(secret, vector["header"], body, now=vector["timestamp"])
    assert not recipe_verify("whsec_wrong", vector["header"], body, now=vector["timestamp"])
    assert not recipe_verify(
        vector["secrets"][0], vector["header"], body + b" ", now=vector["timestamp"]
    )
    stale = vector["timestamp"] + 301
    assert not recipe_verify(vector["secrets"][0], vector["header"], body, now=stale)
    with pytest.raises(signing.SignatureError):
        signing.verify(vector["secrets"][0], vector["header"], body, now=stale)


def test_signing_rejects_malformed_headers():
    body = b"{}"
    good = signing.sign(["k"], 100, body)
    assert signing.verify("k", good, body, now=100) == 100
    expected = hmac.new(b"k", b"100.{}", hashlib.sha256).hexdigest()
    assert good == f"t=100,v1={expected}"
    for header in ("", "v1=" + expected, "t=100", "t=100,t=100,v1=" + expected, "x" * 2000):
        with pytest.raises(signing.SignatureError):
            signing.verify("k", header, body, now=100)


# --- retries -----------------------------------------------------------------------------


def test_retry_delays_are_capped_exponential_with_full_jitter():
    delays = [delivery.retry_delay(n, base=10, cap=900, rand=lambda: 1.0) for n in range(1, 10)]
    assert delays == [10, 20, 40, 80, 160, 320, 640, 900, 900]
    assert delivery.retry_delay(3, base=10, cap=900, rand=lambda: 0.0) == 0
    assert all(0 <= delivery.retry_delay(20, base=10, cap=5000) <= 900 for _ in range(50))


# --- SSRF ---------------------------------------------------------------------------------


def test_delivery_connects_to_the_vetted_address_of_a_rebinding_host(monkeypatch):
    answers = {
        "hooks.example.com": ["93.184.215.14"],
        "evil.example.com": ["93.184.215.14", "10.1.2.3"],
    }

    def fake_getaddrinfo(host, port, *args, **kwargs):
        return [(2, 1, 6, "", (ip, port)) for ip in answers[host]]

    monkeypatch.setattr(ssrf.socket, "getaddrinfo", fake_getaddrinfo)
    target = ssrf.vet("https://hooks.example.com:8443/in?x=1", local=False)
    url, headers, extensions = target.request()
    assert url == "https://93.184.215.14:8443/in?x=1"
    assert headers == {"Host": "hooks.example.com:8443"}
    assert extensions == {"sni_hostname": "hooks.example.com"}
    with pytest.raises(ssrf.UnsafeUrl, match="private"):
        ssrf.vet("https://evil.example.com/", local=False)
    answers["hooks.example.com"] = ["169.254.169.254"]  # DNS changed since creation
    with pytest.raises(ssrf.UnsafeUrl, match="link-local"):
        ssrf.vet("https://hooks.example.com/", local=False)


@pytest.mark.parametrize(
    ("address", "allowed"),
    [
        ("93.184.215.14", True),
        ("2606:2800:21f:cb07:6820:80da:af6b:8b2c", True),
        ("10.0.0.1", False),
        ("172.16.0.1", False),
        ("192.168.0.1", False),
        ("100.64.0.1", False),
        ("127.0.0.1", False),
        ("169.254.169.254", False),
        ("224.0.0.1", False),
        ("240.0.0.1", False),
        ("0.0.0.0", False),
        ("::", False),
        ("::1", False),
        ("fe80::1", False),
        ("fd12:3456::1", False),
        ("ff02::1", False),
        ("::ffff:10.0.0.1", False),
        ("2002:a00:1::", False),  # 6to4 of 10.0.0.1
        ("64:ff9b::a9fe:a9fe", False),  # NAT64 of 169.254.169.254
    ],
)
def test_forbidden_addresses(address, allowed):
    assert (ssrf.forbidden_reason(ipaddress.ip_address(address)) is None) is allowed
