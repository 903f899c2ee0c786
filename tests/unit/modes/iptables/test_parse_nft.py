"""iptables mode read from nft's listing of iptables-nft's tables, and proxy modes this tool does not analyse.

On an iptables-nft node people paste `nft list table ip nat` (text, `-a`, or `-j`) instead of
iptables-save. Those are kube-proxy's iptables-mode chains in nft's words: the plugin follows them
like an iptables-save dump, with nft's lines as the evidence.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import SHARED, run_cli

EXAMPLE = SHARED / "examples" / "hello-service"
CORPUS = Path(__file__).resolve().parents[3] / "corpus"
MANIFEST = str(EXAMPLE / "manifest.yaml")


def _paths(doc: dict) -> dict[tuple[str, str], dict]:
    return {(p["name"], path["entry"]): path for p in doc["ports"] for path in p["paths"]}


def test_seed_nft_listing_alone_gives_the_seed_answer() -> None:
    """`nft list table ip nat` of the seed's node, without iptables-save: the same two paths and counters."""
    for name in ("nft-list-table-ip-nat.txt", "nft-list-table-ip-nat.json"):
        r = run_cli("hello-service", "--rules-file", str(EXAMPLE / name), "--manifest", MANIFEST, "-o", "json")
        assert r.returncode == 0, (name, r.stderr)
        doc = json.loads(r.stdout)
        assert doc["proxyMode"] == "iptables" and doc["backend"] == "nf_tables", name
        paths = _paths(doc)
        v1, v2 = paths[("port-v1", "clusterIP")], paths[("port-v2", "clusterIP")]
        assert v1["chains"] == ["KUBE-SERVICES", "KUBE-SVC-R4PDB35TUPNR4CEW"], name
        assert (v1["packets"], v1["bytes"]) == (2, 120) and (v2["packets"], v2["bytes"]) == (1, 60), name
        if name.endswith(".txt"):
            assert [(e["ip"], e["port"], e["packets"]) for e in v1["endpoints"]] == [("192.168.189.15", 9090, 2)]
            assert [(e["ip"], e["port"]) for e in v2["endpoints"]] == [("192.168.189.15", 9191)]
        else:  # nft -j prints iptables-nft's DNAT as an opaque `xt target "DNAT"`: its address is not in the input
            assert [(e["port"], e["packets"]) for e in v1["endpoints"]] == [(None, 2)]
        assert paths[("port-v1", "nodePort")]["port"] == 30725, name
        assert any("nft's listing of the tables iptables-nft wrote" in n for n in doc["notes"]), name


def test_nft_listing_evidence_is_the_nft_line() -> None:
    r = run_cli("hello-service", "--rules-file", str(EXAMPLE / "nft-list-table-ip-nat.txt"), "--manifest", MANIFEST)
    assert r.returncode == 0, r.stderr
    assert "KUBE-SVC-R4PDB35TUPNR4CEW" in r.stdout and "192.168.189.15:9090" in r.stdout
    assert "iptables (nf_tables) mode" in r.stdout


def test_nft_listing_beside_iptables_save_stays_the_kernel_view() -> None:
    """Given with iptables-save, the nft listing is still the kernel's view, not a second copy of the rules."""
    r = run_cli("hello-service", "--rules-file", str(EXAMPLE / "iptables-save-on-node-host.txt"),
                "--rules-file", str(EXAMPLE / "nft-list-table-ip-nat.txt"), "--manifest", MANIFEST, "-o", "json")
    assert r.returncode in (0, 3), r.stderr
    doc = json.loads(r.stdout)
    v1 = _paths(doc)[("port-v1", "clusterIP")]
    assert (v1["packets"], v1["bytes"]) == (2, 120)
    assert any(e.startswith(str(EXAMPLE / "iptables-save-on-node-host.txt")) for e in v1["evidence"])
    assert not any("nft's listing of the tables iptables-nft wrote" in n for n in doc["notes"])


def test_chain_blocks_without_their_table(tmp_path: Path) -> None:
    """A chain cut out of `nft list`, twice with other counters (two nodes, or two moments): read inside nat from its
    last listing (as a table's chain listed again is), the repeat named, nothing claimed absent. It was read from its
    first listing ('only the listing on line 2 was read')."""
    paste = tmp_path / "two-nodes.txt"
    paste.write_text(
        "## node a\n"
        "chain KUBE-SERVICES {\n"
        "\t\tmeta l4proto tcp ip daddr 10.96.0.1  tcp dport 443 counter packets 5 bytes 300 jump KUBE-SVC-NPX46M4PTMTKRN6Y\n"
        "\t}\n"
        "## node b\n"
        "chain KUBE-SERVICES {\n"
        "\t\tmeta l4proto tcp ip daddr 10.96.0.1  tcp dport 443 counter packets 9 bytes 540 jump KUBE-SVC-NPX46M4PTMTKRN6Y\n"
        "\t}\n")
    r = run_cli("--rules-file", str(paste), "--all", "-o", "json")
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    (item,) = doc["items"]
    (port,) = item["ports"]
    (path,) = port["paths"]
    assert (path["address"], path["port"], path["packets"], path["bytes"]) == ("10.96.0.1", 443, 9, 540)
    assert path["verdict"] == "not-in-input"
    notes = " ".join(item["notes"])
    assert "KUBE-SERVICES read as table ip nat" in notes
    assert ("chain KUBE-SERVICES is listed twice with other rules (lines 2, 6): several moments (or nodes) pasted "
            "together; its last listing is read (line 6), as the later state; pass each node's listing in its own file") in notes
    assert item["service"]["sessionAffinity"] is None and item["service"]["type"] is None


def test_userspace_mode_is_refused_in_one_line() -> None:
    """kube-proxy's userspace mode (KUBE-PORTALS-*): exit 9 and one line saying it is not analysed."""
    paste = str(CORPUS / "website-debug-service-userspace-grep.txt")
    for args in (("--all",), ("default/hostnames",)):
        r = run_cli("--rules-file", paste, *args)
        assert r.returncode == 9, (args, r.stdout, r.stderr)
        lines = r.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("error: "), lines
        assert "userspace mode" in lines[0] and "removed in Kubernetes 1.26" in lines[0] and "not analysed" in lines[0]
        assert r.stdout == ""


def test_chains_listed_one_by_one_read_together() -> None:
    """Seven `nft list chain nat …` blocks of one node (a real post): the NodePort path with its counters."""
    files = [CORPUS / f"aantonov-nft-list-chain-{k}.txt" for k in ("services", "nodeports", "ext", "mark-masq", "svc", "sep", "postrouting")]
    r = run_cli(*[a for f in files for a in ("--rules-file", str(f))], "--all", "-o", "json")
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    (item,) = [i for i in doc["items"] if i["ports"][0]["serviceChain"] == "KUBE-SVC-EDNDUDH2C75GIR6O"]
    paths = {p["entry"]: p for p in item["ports"][0]["paths"]}
    node = paths["nodePort"]
    assert (node["port"], node["packets"], node["bytes"]) == (31041, 680, 40800)
    assert node["chains"] == ["KUBE-NODEPORTS", "KUBE-EXT-EDNDUDH2C75GIR6O", "KUBE-SVC-EDNDUDH2C75GIR6O"]
    (hop,) = node["endpoints"]
    assert (hop["ip"], hop["port"], hop["packets"], hop["bytes"]) == ("10.244.160.14", 443, 102725, 6163500)
    assert paths["clusterIP"]["address"] == "10.103.236.98"
    others = [i for i in doc["items"] if i is not item]
    assert len(others) == 15 and all(p["verdict"] == "not-in-input" for i in others for port in i["ports"] for p in port["paths"])
    assert any("the input is a part of the rules" in n for n in doc["notes"])


def test_headline_of_a_chain_not_in_the_input_claims_no_endpoint_count() -> None:
    """An entry rule whose service chain is not pasted: 'endpoints not in the input', not '0 endpoints … OK'."""
    r = run_cli("--rules-file", str(CORPUS / "saifsust-nft-kube-services-two-nodes.txt"), "10.96.0.1")
    assert r.returncode == 0, r.stderr
    first = r.stdout.splitlines()[0]
    assert "endpoints not in the input" in first and "UNKNOWN" in first and "0 endpoints" not in first


@pytest.mark.parametrize("jump", ['{"jump": 1.5}', '{"jump": {"target": []}}', '{"goto": {"target": {"a": 1}}}',
                                  '{"jump": {"target": null}}'])
def test_nft_json_statement_of_another_shape_is_one_error_line(tmp_path, jump):
    """iptables-nft's table as `nft -j` lists it, a jump whose body is a number (fuzz seed 2, case 384) or
    whose target is a list (seed 32, case 153: a traceback from the correlator), an object or null: one
    error line with the rule's JSON pointer, exit 8, not a traceback."""
    from kubectl_svcpath.errors import ExitCode
    from tests.conftest import EXAMPLE, svcpath

    doc = (EXAMPLE / "nft-list-table-ip-nat.json").read_text()
    f = tmp_path / "nat.json"
    f.write_text(doc.replace('{"jump": {"target": "KUBE-SERVICES"}}', jump, 1))
    code, out, err = svcpath("--rules-file", str(f), "--manifest", str(EXAMPLE / "manifest.yaml"), "hello-service", "-o", "wide")
    assert code == ExitCode.BAD_DUMP and out == ""
    first, hint = err.splitlines()
    assert first.startswith(f"error: {f}: /nftables/") and "a rule not shaped like nft's output" in first
    assert hint.startswith("hint: ")


def test_a_port_of_5000_digits_is_no_port(tmp_path):
    """A node port of 5,000 digits in a grep paste (fuzz seed 2, case 197): int() refuses past
    4,300 digits; it is no port number, so the paste is read without one, not a traceback."""
    from tests.conftest import svcpath

    f = tmp_path / "grep.txt"
    f.write_text("# iptables-save | grep 31275\n"
                 '-A KUBE-NODEPORTS -p tcp -m comment --comment "srv1:management-port" -m tcp --dport 31275 -j KUBE-MARK-MASQ\n'
                 '-A KUBE-NODEPORTS -p tcp -m comment --comment "srv1:management-port" -m tcp --dport ' + "9" * 5000
                 + " -j KUBE-SVC-VNWSL462QTZDNINFGP\n")
    code, out, err = svcpath("--rules-file", str(f), "--all")
    assert code == 0 and err == ""
    row = next(ln for ln in out.splitlines() if "(KUBE-SVC-VNWSL462QTZDNINFGP)" in ln).split()
    # type, cluster IP and ports: no node port (a real 31276 shows "?:31276"); a node port alone is no type
    # (a LoadBalancer's looks the same)
    assert row[3:6] == ["?", "?", "?"]
