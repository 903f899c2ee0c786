"""Forms of real pastes that the corpus's facts format cannot check by itself (issue 9, classes 1, 7, 8, 10).

- class 8: ClientIP affinity of a Service no comment names (facts key Services by name);
- class 10: a partial iptables-restore input names the chains it deletes and lists no Service for them;
- classes 1 and 7: the header-less forms people paste, cut out of a real `iptables-save -c` paste with the
  real `grep` (``grep KUBE-SE`` -> "[0:0] -A …" lines without a table; ``grep -n`` -> "15::CHAIN - [0:0]"),
  and the same paste saved with a UTF-8 byte-order mark. The inputs are derived from the real paste by
  the tools people use; the paste itself is kept verbatim in tests/corpus/.
"""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path
from typing import Any

from tests.conftest import run_cli

CORPUS = Path(__file__).resolve().parent
K3S = CORPUS / "k3s-blog-iptables-save-c-full.txt"
AKS_GREP = CORPUS / "aks-blog-iptables-save-grep-recent.txt"
AKS_LIST = CORPUS / "aks-blog-L-svc-chain-recent-check.txt"
RESTORE = CORPUS / "k8s-proxier-test-partial-restore-delete-service.txt"


def _json(*args: str) -> tuple[int, Any]:
    r = run_cli(*args, "-o", "json")
    assert r.returncode in (0, 3), r.stderr
    assert "Traceback" not in r.stderr
    return r.returncode, json.loads(r.stdout)


def _by_name(doc: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {f"{i['service']['namespace']}/{i['service']['name']}": i for i in doc["items"]}


def test_affinity_of_an_unnamed_service_is_seen() -> None:
    """`iptables-save | grep recent` (no comments): ClientIP, 10800 s, three endpoints that remember clients."""
    for files in ((AKS_GREP,), (AKS_GREP, AKS_LIST)):
        args = [a for f in files for a in ("--rules-file", str(f))]
        _, doc = _json(*args, "--all")
        (item,) = doc["items"]
        assert item["service"]["sessionAffinity"] == "ClientIP", files
        (port,) = item["ports"]
        assert port["affinityTimeoutSeconds"] == 10800 and port["serviceChain"] == "KUBE-SVC-K4VUERBNKSOP4S25"
        hops = [e for p in port["paths"] for e in p["endpoints"]]
        assert sorted(e["ip"] for e in hops) == ["10.100.0.7", "10.100.1.4", "10.100.2.2"], files
        assert all(e["affinity"] for e in hops)


def test_affinity_from_a_listing_alone_counts_endpoint_chains_not_unknown_addresses() -> None:
    r = run_cli("--rules-file", str(AKS_LIST), "--all")
    assert r.returncode == 0, r.stderr
    row = next(line for line in r.stdout.splitlines() if "KUBE-SVC-K4VUERBNKSOP4S25" in line)
    # three endpoint chains, addresses not in the input: not "1"; and their DNATs not in the input: not "ok"
    assert row.split()[-7] == "3" and row.endswith("?: not in the input"), row
    _, doc = _json("--rules-file", str(AKS_LIST), "--all")
    (item,) = doc["items"]
    assert item["service"]["sessionAffinity"] == "ClientIP"
    assert {e["ip"] for p in item["ports"] for path in p["paths"] for e in path["endpoints"]} == {None}  # not in the input: null in JSON (README)


def test_partial_restore_input_names_what_it_deletes() -> None:
    _, doc = _json("--rules-file", str(RESTORE), "--all")
    assert set(_by_name(doc)) == {"ns1/svc1", "ns3/svc3"}  # not the deleted ns2/svc2 chain as a Service
    deleted = "it deletes KUBE-SEP-UHEGFW77JX3KXTOV, KUBE-SVC-2VJB64SDSIJUP5T6 (-X)"
    assert any(deleted in n for n in doc["notes"])
    _, one = _json("ns1/svc1", "--rules-file", str(RESTORE))
    assert any(deleted in n for n in one["notes"])
    (port,) = one["ports"]
    (path,) = port["paths"]
    assert path["verdict"] == "not-in-input" and path["chains"][-1] == "KUBE-SVC-XPGD46QRK7WJZT7O"
    assert not [f for f in one["findings"] if f["code"] in ("no-endpoints", "service-not-programmed")]
    r = run_cli("ns1/svc1", "--rules-file", str(RESTORE))
    assert deleted in " ".join(r.stdout.split())


def _derived(tmp_path: Path, name: str, data: bytes) -> str:
    path = tmp_path / name
    path.write_bytes(data)
    return str(path)


def test_counter_lines_without_a_table_header(tmp_path: Path) -> None:
    """Class 1: `iptables-save -c | grep KUBE-SE`: "[0:0] -A KUBE-SEP-…" lines, no "*nat", read as rules."""
    lines = subprocess.run(["grep", "KUBE-SE", str(K3S)], capture_output=True, check=True).stdout
    assert lines.startswith(b":KUBE-SEP-") and b"\n[0:0] -A KUBE-SEP-VD5CM36UTN4SSMVL -p tcp" in lines
    code, doc = _json("--rules-file", _derived(tmp_path, "grep-c.txt", lines), "--all")
    items = _by_name(doc)
    assert set(items) == {"default/kubernetes", "kube-system/kube-dns", "kube-system/metrics-server"}
    (port,) = items["default/kubernetes"]["ports"]
    (path,) = port["paths"]
    (hop,) = path["endpoints"]
    assert (hop["ip"], hop["port"], hop["packets"], hop["bytes"]) == ("10.0.20.5", 6443, 0, 0)
    assert items["default/kubernetes"]["service"]["type"] is None  # no header: the tables are not whole
    assert code == 3  # kube-dns' REJECT "has no endpoints" is in the lines: seen, with its evidence


def test_grep_n_output(tmp_path: Path) -> None:
    """Class 7: `grep -n KUBE`: "15::KUBE-KUBELET-CANARY - [0:0]" and "47:[0:0] -A …" lines."""
    lines = subprocess.run(["grep", "-n", "KUBE", str(K3S)], capture_output=True, check=True).stdout
    assert b"\n34::KUBE-SVC-NPX46M4PTMTKRN6Y - [0:0]\n" in lines
    _, doc = _json("--rules-file", _derived(tmp_path, "grep-n.txt", lines), "--all")
    items = _by_name(doc)
    assert set(items) == {"default/kubernetes", "kube-system/kube-dns", "kube-system/metrics-server"}
    (port,) = items["default/kubernetes"]["ports"]
    assert [(e["ip"], e["port"]) for p in port["paths"] for e in p["endpoints"]] == [("10.0.20.5", 6443)]
    assert any("grep output" in n for n in items["default/kubernetes"]["notes"])


def test_byte_order_mark_before_a_real_paste(tmp_path: Path) -> None:
    """Class 7: the same whole dump saved with a UTF-8 BOM reads exactly as without it."""
    _, plain = _json("--rules-file", str(K3S), "--all")
    with_bom = _derived(tmp_path, "bom.txt", b"\xef\xbb\xbf" + K3S.read_bytes())
    _, bom = _json("--rules-file", with_bom, "--all")
    ports = json.dumps([i["ports"] for i in bom["items"]]).replace(with_bom, str(K3S))
    assert ports == json.dumps([i["ports"] for i in plain["items"]])  # the same evidence lines, too
    assert len(bom["items"]) == 3 and bom["totals"] == plain["totals"]


K8S132_NFT = CORPUS / "k8s132-notes-nft-a-list-table-kube-proxy-elided.txt"


def test_grep_of_an_nft_listing(tmp_path: Path) -> None:
    """nftables mode's `nft -a list table kube-proxy | grep http-server`, cut out of a real listing with the real grep:
    three service-ips element lines, an endpoint chain's header alone, a service chain's header and its vmap. Each
    element line was wrapped as a listing of service-ips of its own, so the map read as listed three times with other
    elements (several moments, the last replacing the others): home/http-server (10.255.36.158:8000) was
    'not found in the rules'. And '# handle 61' after a chain's header took the braces closing it into the note:
    refused, 'chain endpoint-… is not closed (truncated dump?)'."""
    lines = subprocess.run(["grep", "http-server", str(K8S132_NFT)], capture_output=True, check=True).stdout
    assert lines.count(b" : goto ") == 7 and b"{ # handle 61\n" in lines
    for name, text in (("nft-a-grep.txt", lines), ("nft-grep.txt", re.sub(rb" # handle \d+", b"", lines))):  # (nft list, no -a)
        paste = _derived(tmp_path, name, text)
        _, doc = _json("--rules-file", paste, "--all")
        items = _by_name(doc)
        assert set(items) == {"home/http-server", "home/http-server-external-ip"}, name
        (port,) = items["home/http-server"]["ports"]
        assert port["serviceChain"] == "service-MJTK4JPM-home/http-server/tcp/mainhttp"
        assert sorted(e["ip"] for p in port["paths"] for e in p["endpoints"]) == [
            "10.244.1.71", "10.244.1.72", "10.244.1.73", "10.244.1.76"], name
        assert not any("several moments" in n for n in items["home/http-server"]["notes"]), name
        r = run_cli("home/http-server", "--rules-file", paste)
        assert r.returncode == 0 and "Service:  home/http-server  type ?  cluster IP 10.255.36.158" in r.stdout, r.stderr
