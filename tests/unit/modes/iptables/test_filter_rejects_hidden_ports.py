"""Filter REJECTs listed by an iptables that hides their port matches (a real `iptables -L` of a 2024 kubeadm node,
stibbons1990/hex, kept in tests/corpus as stibbons-rapture-*).

Before: a REJECT whose comment names the Service's other port was taken for this port too (a hidden port, None, equal
to the port a dump-only report does not know, None): kube-dns's dns-tcp and metrics each showed both tcp REJECTs, and
hidden-port-match counted 5 rules of 3. A KUBE-EXTERNAL-SERVICES REJECT was called an external IP's, though kube-proxy
writes a load-balancer IP's there alike. The hidden mark match of KUBE-FORWARD's ACCEPT was explained as 'masquerading
works in the kernel', and both findings pointed at `nft list chain ip nat …` for filter chains."""

from __future__ import annotations

import json
from pathlib import Path

from tests.conftest import svcpath

CORPUS = Path(__file__).resolve().parents[3] / "corpus"
SMALL = str(CORPUS / "stibbons-rapture-L-kube-services-reject-kube-dns.txt")
WHOLE = str(CORPUS / "stibbons-rapture-L-filter-whole-reject-names-resolved.txt")


def _entries(doc: dict) -> dict[str, list[tuple[str, str | None, str]]]:
    return {p["name"]: [(e["entry"], e.get("address"), str(e["evidence"][0])) for e in p["paths"]] for p in doc["ports"]}


def test_each_reject_is_the_port_its_comment_names() -> None:
    code, out, err = svcpath("kube-system/kube-dns", "--rules-file", SMALL, "-o", "json")
    assert code == 3, err
    entries = _entries(json.loads(out))
    assert {name: len(rows) for name, rows in entries.items()} == {"dns": 1, "dns-tcp": 1, "metrics": 1}, entries
    assert entries["metrics"][0][2].endswith(":17"), entries  # its own REJECT (line 17), not dns-tcp's (line 19)


def test_hidden_port_count_is_the_rules_shown() -> None:
    code, out, err = svcpath("kube-system/kube-dns", "--rules-file", SMALL)
    assert code == 3, err
    assert "3 of this Service's entry rules printed without a port match" in out, out


def test_external_services_reject_is_an_address_of_unknown_kind() -> None:
    code, out, err = svcpath("ingress-nginx/ingress-nginx-controller", "--rules-file", WHOLE, "-o", "json")
    assert code == 3, err
    entries = _entries(json.loads(out))
    assert sorted(kind for kind, _, _ in entries["https"]) == ["address", "clusterIP", "nodePort"], entries
    assert ("address", "nginx.rapture.uu.am") in [(k, a) for k, a, _ in entries["http"]], entries


def test_forward_mark_is_not_about_masquerading_and_names_the_filter_table() -> None:
    code, out, err = svcpath("ingress-nginx/ingress-nginx-controller", "--rules-file", WHOLE, "--explain")
    assert code == 3, err
    assert "masquerading works" not in out, out
    assert "Accepting the forwarded service traffic kube-proxy marked works in the kernel" in out, out
    assert "nft list chain ip filter KUBE-FORWARD" in out and "ip nat KUBE-FORWARD" not in out, out
    assert "nft list chain ip filter KUBE-SERVICES" in out, out
    assert "each REJECT would refuse every port of its address" in out, out


AFTER = str(CORPUS / "stibbons-rapture-L-filter-whole-after-no-rejects.txt")


def test_all_of_a_filter_listing_says_the_nat_table_is_missing() -> None:
    """--all of the filter table alone listed the Services its REJECTs name and said nothing of the others."""
    code, out, err = svcpath("--all", "--rules-file", WHOLE)
    assert code == 3, err
    assert "no nat table in the input: a Service with endpoints has its rules there" in out, out


def test_a_service_not_in_a_filter_listing_names_the_missing_nat_table() -> None:
    code, _, err = svcpath("kube-system/kube-dns", "--rules-file", AFTER)
    assert code == 4, err
    assert "a Service with endpoints has its rules in the nat table, which the input lacks" in err, err
