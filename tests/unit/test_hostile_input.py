"""Inputs from issue 15 (hostile and broken input) that were slow or wrong, checked as users see them.

The fuzz campaign (tests/fuzz, `make fuzz`) finds the classes; each class it found keeps a test here.
"""

from __future__ import annotations

import base64
import hashlib
import ipaddress

import pytest

from kubectl_svcpath import kubeproxy
from kubectl_svcpath.endpoints import ip_family, norm_ip


@pytest.mark.parametrize("text", ["default/hello-service:port-v1tcp10.0.1.2:9090", "", "é/ü:x", "a" * 300])
def test_chain_hash_is_the_first_16_base32_characters_of_sha256(text: str) -> None:
    # kube-proxy: base32.StdEncoding.EncodeToString(sha256(...))[:16]; ours writes out 80 bits directly
    full = base64.b32encode(hashlib.sha256(text.encode()).digest()).decode()
    assert kubeproxy._hash16(text) == full[:16]
    assert kubeproxy.nft_service_base("ns", "svc", "TCP", text).startswith(
        base64.b32encode(hashlib.sha256(f"ns/svc/tcp/{text}".encode()).digest()).decode()[:8] + "-")


@pytest.mark.parametrize("text", [
    "10.0.0.1", "0.0.0.0", "255.255.255.255", "256.1.1.1", "010.1.1.1", "1.2.3", "1.2.3.4.5", " 10.0.0.1 ",
    "1.2.3.٣", "1.2.3.4\n", "::1", "fd00::0:1", "FD00::1", "::ffff:10.0.0.1", "x", "", "1.2.3.-4", "01.2.3.4",
])
def test_address_family_and_spelling_agree_with_ipaddress(text: str) -> None:
    try:
        addr = ipaddress.ip_address(text.strip())
    except ValueError:
        addr = None
    assert ip_family(text) == (addr.version if addr else None)
    try:
        spelled = ipaddress.ip_address(text).compressed
    except ValueError:
        spelled = text
    assert norm_ip(text) == spelled
