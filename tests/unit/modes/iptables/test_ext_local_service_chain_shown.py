"""An externalTrafficPolicy Local LoadBalancer whose way in leads to a KUBE-SVL not in the paste, while its service chain
and endpoints are (VijayRod/demo's AKS 1.30 notes, tests/corpus/vijayrod-aks130-grep-loadbal-ext-local-svc-block-
twice.txt: `iptables-save | grep loadbal`, then KUBE-EXT, KUBE-SVC and the endpoint chains pasted below it).

The port read "endpoints not in the input" and showed neither endpoint; and a service chain no grep of the paste
printed was said to be cut by "the pasted grep's word", which is in none of its rules."""

from __future__ import annotations

import json

from tests.conftest import ROOT, svcpath

PASTE = str(ROOT / "tests/corpus/vijayrod-aks130-grep-loadbal-ext-local-svc-block-twice.txt")


def test_the_service_chain_in_the_paste_gives_the_ports_endpoints() -> None:
    code, out, err = svcpath("app-routing-system/nginx", "--rules-file", PASTE, "--port", "http")
    assert code == 0, err
    first = out.splitlines()[0]
    assert "endpoints not in the input" not in first and "2 endpoints shown" in first
    assert "10.244.0.203:8080" in out and "10.244.2.1:8080" in out
    assert "the cluster IP's entry rule (KUBE-SERVICES to KUBE-SVC-EEQNXCJLUUVUU2YK): not in the input" in out
    assert "KUBE-SVL-EEQNXCJLUUVUU2YK: not in the input" in out  # the external clients' way on stays unknown
    assert "the pasted grep's word picks" not in out
    code, out, err = svcpath("app-routing-system/nginx", "--rules-file", PASTE, "-o", "json")
    (http,) = [p for p in json.loads(out)["ports"] if p["name"] == "http"]
    shown = {e["ip"] for path in http["paths"] for e in path["endpoints"]}
    assert {"10.244.0.203", "10.244.2.1"} <= shown


def test_a_local_chain_with_endpoints_keeps_its_own_words() -> None:
    # (sn0rt's greps: the node port leads to KUBE-XLB with two local endpoints; the service chain's one jump a grep
    # printed adds no row)
    paste = str(ROOT / "tests/corpus/sn0rt-xlb-local-node-greps-annotation.txt")
    code, out, err = svcpath("2048-game/service-2048-local", "--rules-file", paste)
    assert code == 0, err
    assert out.splitlines()[0].startswith("(unnamed) ?/TCP → 2 local endpoints")
    assert "the cluster IP's entry rule" not in out

