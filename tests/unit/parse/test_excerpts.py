"""Issue 9: say only what the input shows. Pasted excerpts read, and nothing absent is claimed from them.

The seed paste (shared/examples/hello-service/pasted-*.txt, verbatim from the question this tool
was born from) must give the seed's answer, each file alone and both together, in table and json.
The other cases feed real tool output in the forms people paste it (grep, grep -n, -c lines
without the table header, a BOM) and check what users see.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from tests.conftest import EXAMPLE, SHARED, require_shared, svcpath

SEED = SHARED / "examples" / "hello-service"
RULE_LINES = str(SEED / "pasted-rule-lines.txt")
L_GREP = str(SEED / "pasted-L-grep.txt")
V1, V2 = "KUBE-SVC-R4PDB35TUPNR4CEW", "KUBE-SVC-P73F5K5MMQHXGZV7"
SEP1, SEP2 = "KUBE-SEP-AA54JU3D4RO26WUA", "KUBE-SEP-GZ2FT6XOW5XY6PQC"
ABSENCE = re.compile(r"no endpoints|no local endpoint|not programmed|headless|NO RULES|MISSING", re.I)


def _json(*args: str) -> dict:
    code, out, err = svcpath(*args, "-o", "json")
    assert code in (0, 3), err
    return json.loads(out)


def _port(doc: dict, name: str) -> dict:
    return next(p for p in doc["ports"] if p["name"] == name)


def _entry(doc: dict, name: str) -> dict:
    return next(p for p in _port(doc, name)["paths"] if p["entry"] == "clusterIP")


# --- class 12: the seed paste ---------------------------------------------------------------------

@pytest.fixture(autouse=True)
def _shared() -> None:
    require_shared()


def test_seed_together_json() -> None:
    """Both pasted files: each port's path, endpoint and entry counters, and the hidden port match proved."""
    doc = _json("hello-service", "-f", RULE_LINES, "-f", L_GREP)
    assert doc["service"]["namespace"] == "default" and doc["service"]["clusterIPs"] == ["10.101.173.15"]
    v1, v2 = _entry(doc, "port-v1"), _entry(doc, "port-v2")
    assert v1["chains"] == ["KUBE-SERVICES", V1] and (v1["packets"], v1["bytes"]) == (2, 120)
    assert v2["chains"] == ["KUBE-SERVICES", V2] and (v2["packets"], v2["bytes"]) == (1, 60)
    assert [(e["ip"], e["port"], e["chain"]) for e in v1["endpoints"]] == [("192.168.189.15", 9090, SEP1)]
    assert [(e["ip"], e["port"], e["chain"]) for e in v2["endpoints"]] == [("192.168.189.15", 9191, SEP2)]
    assert v1["portShown"] is False and v2["portShown"] is False
    hidden = next(f for f in doc["findings"] if f["code"] == "hidden-port-match")
    assert "counters prove" in hidden["message"]
    assert any("counters 2 / 1" in d for d in hidden["detail"])
    # evidence from both files: the rule line and the -L line with its counters
    assert any(e.startswith(RULE_LINES + ":4") for e in v1["evidence"]) and any(e.startswith(L_GREP + ":1") for e in v1["evidence"])
    # the service port numbers are in neither file: unknown, not 0
    assert _port(doc, "port-v1")["port"] is None
    assert doc["excerpt"] is True
    assert doc["service"]["sessionAffinity"] is None and doc["service"]["type"] is None
    assert "sessionAffinity: not in the input" in doc["notInInput"]


def test_seed_together_table() -> None:
    code, out, err = svcpath("hello-service", "-f", RULE_LINES, "-f", L_GREP, "--explain")
    assert code == 0, err
    # the table rows (the verdict lines above them start with the port too, with "→")
    row1 = next(line for line in out.splitlines() if line.startswith("port-v1") and "→" not in line)
    assert re.search(rf"10\.101\.173\.15:\?\*\s+2\s+{V1}\s+192\.168\.189\.15:9090", row1), row1
    row2 = next(line for line in out.splitlines() if line.startswith("port-v2") and "→" not in line)
    assert re.search(rf"10\.101\.173\.15:\?\*\s+1\s+{V2}\s+192\.168\.189\.15:9191", row2), row2
    assert "hidden-port-match" in out and "is an excerpt (cut at lines 3, 6, 9)" in out
    assert "Unknown:  sessionAffinity: not in the input" in out
    assert "author's note" in out  # the "# Нет порта…" after two rules
    assert not ABSENCE.search(out)


def test_seed_rule_lines_alone() -> None:
    """The rule lines: both paths to their endpoints and the hidden match, no counters; a refusal before."""
    doc = _json("hello-service", "-f", RULE_LINES)
    for name, svc, ip_port in (("port-v1", V1, ("192.168.189.15", 9090)), ("port-v2", V2, ("192.168.189.15", 9191))):
        path = _entry(doc, name)
        assert path["chains"] == ["KUBE-SERVICES", svc] and path["packets"] is None
        assert [(e["ip"], e["port"]) for e in path["endpoints"]] == [ip_port]
        assert path["endpoints"][0]["probability"] is None  # the cut lines may hold other endpoints
    hidden = next(f for f in doc["findings"] if f["code"] == "hidden-port-match")
    assert "alike but for their comments" in " ".join(hidden["detail"])
    code, out, _ = svcpath("hello-service", "-f", RULE_LINES)
    assert code == 0 and "port-v1 ?/TCP" in out and "192.168.189.15:9090" in out and not ABSENCE.search(out)


def test_seed_rule_lines_say_why_endpoints_may_be_more() -> None:
    """Why each service chain's one jump may not be all of them: the paste's cuts, not a claim that the
    jumps shown break kube-proxy's cascade (one unconditional jump is a whole cascade of one)."""
    doc = _json("hello-service", "-f", RULE_LINES)
    v1 = " ".join(_port(doc, "port-v1")["notInInput"])
    v2 = " ".join(_port(doc, "port-v2")["notInInput"])
    assert f"{V1} is not all in the input (the paste is cut at lines 3, 6, 9: more of its jumps may be in what was left out)" in v1
    assert f"{V2} is not all in the input (the paste is cut at line 6, right above its rules: jumps above them, if any, were not copied)" in v2
    assert "cascade" not in v1 + v2


def test_jumps_shown_that_break_the_cascade(tmp_path: Path) -> None:
    """A 1/3 jump then the unconditional one, after a cut: a share is proved missing (the 1/2 jump)."""
    lines = Path(RULE_LINES).read_text().splitlines()
    svc = [line for line in lines if line.startswith(f"-A {V1} ")][0]
    third = svc.replace(" -j KUBE-SEP-", " -m statistic --mode random --probability 0.33333333349 -j KUBE-SEP-").replace(SEP1, "KUBE-SEP-ZZZZZZZZZZZZZZZZ")
    f = tmp_path / "gap.txt"
    f.write_text("\n".join([*lines[:6], third, svc, *lines[8:]]) + "\n")
    doc = _json("hello-service", "-f", str(f))
    assert f"{V1} is not all in the input (its endpoint jumps shown are not all of kube-proxy's cascade)" in " ".join(_port(doc, "port-v1")["notInInput"])


def test_seed_L_grep_alone() -> None:
    """The -L | grep lines: both entries, their chains and counters; the service chains are not in the input."""
    doc = _json("hello-service", "-f", L_GREP)
    for name, svc, counters in (("port-v1", V1, (2, 120)), ("port-v2", V2, (1, 60))):
        path = _entry(doc, name)
        assert path["chains"] == ["KUBE-SERVICES", svc]
        assert (path["packets"], path["bytes"]) == counters
        assert path["verdict"] == "not-in-input" and path["endpoints"] == []
        assert f"{svc}: not in the input" in " ".join(_port(doc, name)["notInInput"])
    assert any("read as \"default/hello-service:port-v1 cluster IP\"" in n for n in doc["notes"])
    code, out, _ = svcpath("hello-service", "-f", L_GREP)
    assert code == 0 and f"{V1}: not in the input" in out and not ABSENCE.search(out)
    code, out, _ = svcpath("hello-service", "-f", L_GREP, "-o", "tree")
    assert code == 0 and f"{V1}: not in the input" in out


def test_seed_all_lists_the_service() -> None:
    for files in ((RULE_LINES,), (L_GREP,), (RULE_LINES, L_GREP)):
        code, out, err = svcpath("--all", *[a for f in files for a in ("-f", f)])
        assert code == 0, err
        assert re.search(r"^default\s+hello-service\s", out, re.M), out


def test_seed_example_bundle_carries_the_paste() -> None:
    for name in ("pasted-rule-lines.txt", "pasted-L-grep.txt"):
        assert (EXAMPLE / name).read_bytes() == (SEED / name).read_bytes()


# --- class 1: iptables-save -c lines without the table header -----------------------------------

def test_counter_lines_without_header(tmp_path: Path) -> None:
    """`iptables-save -c | grep …` output starts with "[102:8638] -A …": rule lines, not JSON."""
    dump = (EXAMPLE / "iptables-save-in-kube-proxy-pod.txt").read_text()
    lines = [line for line in dump.splitlines() if line.startswith("[") and ("hello-service" in line or "KUBE-SEP" in line)]
    f = tmp_path / "c-lines.txt"
    f.write_text("\n".join(lines) + "\n")
    doc = _json("hello-service", "-f", str(f))
    v1 = _entry(doc, "port-v1")
    assert (v1["packets"], v1["bytes"]) == (2, 120) and v1["endpoints"][0]["ip"] == "192.168.189.15"
    assert doc["sources"][0]["format"] == "rules-only"


# --- class 7: grep -n output and a byte-order mark ----------------------------------------------

def test_grep_n_and_bom(tmp_path: Path) -> None:
    dump = (EXAMPLE / "iptables-save-in-kube-proxy-pod.txt").read_text()
    numbered = [f"{i}:{line}" for i, line in enumerate(dump.splitlines(), 1) if "R4PDB35TUPNR4CEW" in line or "AA54JU3D4RO26WUA" in line]
    assert any(re.match(r"\d+::KUBE-SVC-", line) for line in numbered)  # the chain lines grep -n prints
    f = tmp_path / "grep-n.txt"
    f.write_text("\n".join(numbered) + "\n")
    doc = _json("hello-service", "-f", str(f))
    assert _entry(doc, "port-v1")["endpoints"][0]["chain"] == SEP1
    assert any("grep output" in n for n in doc["notes"])
    bom = tmp_path / "bom.txt"
    bom.write_bytes(b"\xef\xbb\xbf" + (EXAMPLE / "iptables-save-in-kube-proxy-pod.txt").read_bytes())
    doc = _json("hello-service", "-f", str(bom))
    assert _entry(doc, "port-v1")["packets"] == 2 and "excerpt" not in doc


# --- class 5: elisions ------------------------------------------------------------------------------

@pytest.mark.parametrize("mark", ["...", "....", "[snip]", "<truncated>", "… 40 more lines …"])
def test_elisions_make_an_excerpt(tmp_path: Path, mark: str) -> None:
    """A cut inside a whole dump: it reads, and the report claims nothing absent (no 'service-not-programmed')."""
    lines = (EXAMPLE / "iptables-save-in-kube-proxy-pod.txt").read_text().splitlines()
    cut = [line for line in lines if "port-v2" not in line and "P73F5K5MMQHXGZV7" not in line and "GZ2FT6XOW5XY6PQC" not in line]
    cut.insert(len(cut) // 2, mark)
    f = tmp_path / "cut.txt"
    f.write_text("\n".join(cut) + "\n")
    doc = _json("default/hello-service", "-f", str(f), "--manifest", str(EXAMPLE / "manifest.yaml"))
    assert doc["excerpt"] is True
    assert "service-not-programmed" not in {x["code"] for x in doc["findings"]}
    assert any("entry rule: not in the input" in u for u in _port(doc, "port-v2")["notInInput"])
    assert _entry(doc, "port-v1")["packets"] == 2
    whole = _json("default/hello-service", "-f", str(EXAMPLE / "iptables-save-in-kube-proxy-pod.txt"),
                  "--manifest", str(EXAMPLE / "manifest.yaml"))
    assert "excerpt" not in whole and "notInInput" not in whole


# --- class 4: a jump to a chain the input does not hold --------------------------------------------

def test_jump_to_chain_not_in_input_is_not_no_endpoints() -> None:
    code, out, _ = svcpath("--all", "-f", L_GREP)
    assert code == 0
    row = next(line for line in out.splitlines() if "hello-service" in line)
    assert " ok" not in row and re.search(r"\s\?\s", row), row  # endpoints unknown, not 0 and ok
    doc = _json("hello-service", "-f", L_GREP)
    assert "chain-not-in-input" in {f["code"] for f in doc["findings"]}
    assert not {"no-endpoints", "service-not-programmed", "headless-service"} & {f["code"] for f in doc["findings"]}


# --- class 3: layouts before 1.24 (KUBE-XLB, masquerade rules in KUBE-SERVICES), and the era note ----

CORPUS = Path(__file__).resolve().parents[2] / "corpus"


def test_xlb_layout_keeps_the_node_port_and_says_the_era() -> None:
    """katacoda paste (kube-proxy ~1.20): NodePort -> KUBE-XLB with "has no local endpoints": seen, not headless."""
    doc = _json("default/test-svc", "-f", str(CORPUS / "katacoda-kind-grep-xlb-local.txt"))
    svc = doc["service"]
    assert (svc["type"], svc["clusterIPs"], svc["externalTrafficPolicy"]) == ("NodePort", ["10.96.115.88"], "Local")
    node = next(p for p in _port(doc, "")["paths"] if p["entry"] == "nodePort")
    assert node["chains"] == ["KUBE-NODEPORTS", "KUBE-XLB-QKNQQNIN727HO3XU"] and node["port"] == 32070
    assert node["verdict"] == "drop" and any(e.endswith(":14") for e in node["evidence"])  # the XLB rule itself
    assert [e["ip"] for e in _entry(doc, "")["endpoints"]] == ["10.244.1.3", "10.244.2.3"]
    assert any(n.startswith("layout: kube-proxy 1.20 or earlier (KUBE-XLB chains, masquerade rules in KUBE-SERVICES)") for n in doc["notes"])
    assert "headless-service" not in {f["code"] for f in doc["findings"]}


# --- class 6: -L listings of the filter table, and of IPVS mode's nat table ----------------------------

def test_filter_listing_is_read_as_filter() -> None:
    """A listing of INPUT/FORWARD/OUTPUT with REJECTs is the filter table: its no-endpoints rule is seen."""
    doc = _json("--all", "-f", str(CORPUS / "qifangsu-demo-nat-L-n-v.txt"), "-f", str(CORPUS / "qifangsu-demo-filter-L-n-v.txt"))
    assert not any("no filter table" in n for i in doc["items"] for n in i["notes"])
    assert any("taken to be filter and nat" in n or "taken to be nat and filter" in n for n in doc["items"][0]["notes"])


def test_ipvs_mode_listing_is_recognised() -> None:
    """`iptables -t nat -L` of an IPVS-mode node (match-set KUBE-CLUSTER-IP) says IPVS, like its iptables-save form."""
    code, _, err = svcpath("--all", "-f", str(CORPUS / "tkng-ipvs-mode-nat-L-kube-services.txt"))
    assert code == 9 and "IPVS mode" in err and "ipvsadm -Ln" in err


# --- class 8: session affinity seen in the rules is the Service's ------------------------------------

def test_affinity_from_rules_in_json() -> None:
    require_shared()
    doc = _json("ns5/svc5", "-f", str(SHARED / "dumps" / "upstream-iptables-proxier-test-TestOverallIPTablesRules.txt"))
    assert doc["service"]["sessionAffinity"] == "ClientIP" and _port(doc, "p80")["affinityTimeoutSeconds"] == 10800
    doc = _json("ns1/svc1", "-f", str(SHARED / "dumps" / "upstream-iptables-proxier-test-TestOverallIPTablesRules.txt"))
    assert doc["service"]["sessionAffinity"] == "None"  # a whole table, no recent rule: shown, not defaulted


# --- class 9: IPVS says what it knows and what it does not ------------------------------------------

def test_ipvs_virtual_servers_are_not_services() -> None:
    doc = _json("--all", "-f", str(CORPUS / "tkng-ipvsadm-ln-nodeports.txt"))
    items = doc["items"]
    assert all(i["service"]["namespace"] is None and i["service"]["name"] is None and i["service"]["type"] is None for i in items)
    node = [i for i in items if i["ports"][0]["nodePort"] == 31730]
    assert len(node) == 1  # one port on three node addresses: one node port, never three "cluster IPs"
    assert sorted(p["address"] for p in node[0]["ports"][0]["paths"]) == ["10.244.2.1", "127.0.0.1", "192.168.224.4"]
    assert all(p["entry"] == "nodePort" for p in node[0]["ports"][0]["paths"])
    port80 = [i for i in items if i["ports"][0]["port"] == 80]
    assert len(port80) == 2 and all(p["entry"] == "virtualServer" for i in port80 for p in i["ports"][0]["paths"])
    assert any("kubectl get svc -A | grep -w 31730" in n for n in node[0]["notes"])


# --- class 10: a partial iptables-restore input -------------------------------------------------------

def test_partial_restore_input(tmp_path: Path) -> None:
    """kube-proxy's restore input of a partial sync: only rewritten chains, "-X" for deleted ones."""
    lines = (EXAMPLE / "kube-proxy-restore-input.txt").read_text().splitlines()
    keep = [ln for ln in lines if not re.match(r"^(:|-A )(KUBE-SVC-P73F5K5MMQHXGZV7|KUBE-SEP-GZ2FT6XOW5XY6PQC)\b", ln)]
    commit = keep.index("COMMIT")
    keep[commit:commit] = ["-X KUBE-SVC-OLDOLDOLDOLDOLD01", "-X KUBE-SEP-OLDOLDOLDOLDOLD02"]
    f = tmp_path / "restore.txt"
    f.write_text("\n".join(keep) + "\n")
    doc = _json("default/hello-service", "-f", str(f), "--manifest", str(EXAMPLE / "manifest.yaml"))
    v2 = _entry(doc, "port-v2")
    assert v2["verdict"] == "not-in-input" and v2["chains"] == ["KUBE-SERVICES", V2]
    assert [e["ip"] for e in _entry(doc, "port-v1")["endpoints"]] == ["192.168.189.15"]
    assert any("deletes KUBE-SVC-OLDOLDOLDOLDOLD01, KUBE-SEP-OLDOLDOLDOLDOLD02 (-X)" in n for n in doc["notes"])
    assert not {"no-endpoints", "service-not-programmed", "endpoint-not-programmed"} & {x["code"] for x in doc["findings"]}


def test_other_commands_output_around_the_rules_is_left_out(tmp_path: Path) -> None:
    """A `kubectl logs` / `kubectl get svc` run pasted above the rules is no rule: left out with a note, not
    refused (tests/corpus/gke-gci-agent-iptables-save-grep-n.txt is the real paste). Output of a command that
    names a rule tool, or of an alias (`$ ipt KUBE-SERVICES`), is read as rules."""
    from kubectl_svcpath.parse.excerpt import clean

    rules = ('-A KUBE-SERVICES -d 10.96.7.7/32 -p tcp -m comment --comment "shop/web:http cluster IP" -m tcp --dport 80 '
             "-j KUBE-SVC-67NZLRHBNDSAWJRO\n")
    paste = tmp_path / "p.txt"
    paste.write_text("$ kubectl get svc -n shop\nNAME   TYPE        CLUSTER-IP   PORT(S)\nweb    ClusterIP   10.96.7.7    80/TCP\n\n"
                     "$ kubectl exec -n kube-system kube-proxy-x -- iptables-save | grep shop/web\n" + rules, encoding="utf-8")
    doc = _json("--all", "--rules-file", str(paste))
    assert [(i["service"]["namespace"], i["service"]["name"]) for i in doc["items"]] == [("shop", "web")]
    assert f"{paste}: not rule output, left out: lines 2-3 (`kubectl get svc -n shop` output)" in doc["notes"]
    kept = clean("$ ipt KUBE-SERVICES\nChain KUBE-SERVICES (2 references)\n# kubectl logs x\nI0203 20:11:28 proxier.go:356] sync\n")
    assert kept.text.split("\n")[1] == "Chain KUBE-SERVICES (2 references)" and kept.left_out == [(4, 4, "kubectl logs x")]


def test_nft_json_cut_with_elisions_is_read_as_its_objects() -> None:
    """`nft -j … | jq .` cut with "..." (tests/corpus/kep3866-nft-json-jq-rule-elided.txt is the real paste):
    the objects between the cuts, each closed where it was cut, are one `nft -j` document."""
    from kubectl_svcpath.parse.excerpt import clean, json_excerpt

    cut = ('$ nft -j list table ip kube-proxy | jq .\n...\n    {\n      "chain": {"family": "ip", "table": "kube-proxy",'
           ' "name": "services", "handle": 3}\n    },\n    {\n      "rule": {"family": "ip", "table": "kube-proxy",'
           ' "chain": "services", "handle": 19, "expr": [{"jump": {"target": "x]{"}}]}\n...\n')
    c = clean(cut)
    doc = json.loads(json_excerpt(c.text, c.elisions) or "null")
    assert [next(iter(o)) for o in doc["nftables"]] == ["chain", "rule"]
    assert doc["nftables"][1]["rule"]["expr"][0]["jump"]["target"] == "x]{"
    assert json_excerpt('{"nftables": []}', [2]) is None and json_excerpt("-A X -j Y\n...\n", [2]) is None
    assert json_excerpt('...\n  }\n  {"rule": {}}\n', [1]) is None  # cut inside an object opened above the cut


def test_rules_right_after_another_commands_output_are_read() -> None:
    from kubectl_svcpath.parse.excerpt import clean

    c = clean("$ kubectl get svc web\nNAME  TYPE\nweb   ClusterIP\n-A KUBE-SERVICES -j KUBE-SVC-X\n-A KUBE-SVC-X -j KUBE-SEP-Y\n")
    assert c.left_out == [(2, 3, "kubectl get svc web")]
    assert c.text.split("\n")[3:5] == ["-A KUBE-SERVICES -j KUBE-SVC-X", "-A KUBE-SVC-X -j KUBE-SEP-Y"]


def test_json_cut_with_elisions_nested_too_deep_is_one_error_line(tmp_path: Path) -> None:
    """JSON arrays nested past the decoder's recursion limit, cut with '...' (fuzz seed 1, case 725):
    no nft -j excerpt, one error line, not a RecursionError traceback."""
    f = tmp_path / "deep.txt"
    f.write_text("[" * 100_000 + "\n...\n" + "]" * 10 + "\n...\n")
    code, out, err = svcpath("--rules-file", str(f), "--all")
    assert code == 8 and out == ""
    assert err.startswith(f"error: {f}: JSON, but not `nft -j` output") and len(err.splitlines()) == 2
