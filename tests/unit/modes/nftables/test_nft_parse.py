"""nft readers: `nft -j list`, `nft list` and the `add …` transaction text give the same model.

Inputs are the real dumps in shared/ (kube-proxy's table as kube-proxy's own test writes it, as
nft 1.0.6 prints it back in both forms, a real k3s node) and iptables-nft's `table ip nat` of
the hello-service example, which the version-skew check reads through ``rule_summary``.
"""

from __future__ import annotations

import json

import pytest

from kubectl_svcpath.errors import BadDump, ExitCode
from kubectl_svcpath.modes.nftables.model import LazyChains, NftRuleset, Verdict, rule_summary
from kubectl_svcpath.parse.conntrack import looks_like_conntrack
from kubectl_svcpath.modes.ipvs.detect import looks_like_ipvsadm
from kubectl_svcpath.modes.nftables.parse_json import looks_like_nft_json, parse_nft_json
from kubectl_svcpath.modes.nftables.detect import looks_like_nft_text
from kubectl_svcpath.modes.nftables.parse_text import parse_nft_text
from tests.conftest import DUMPS, EXAMPLE, require_shared, svcpath

UPSTREAM = "upstream-nftables-proxier-test-TestOverallNFTablesRules.txt"
DERIVED_TEXT = "derived-netns-nft-list-table-ip-kube-proxy-from-upstream-TestOverallNFTablesRules.txt"
DERIVED_JSON = "derived-netns-nft-json-list-table-ip-kube-proxy-from-upstream-TestOverallNFTablesRules.json"
K3S = "repo-k3s-nft-list-table-ip-kube-proxy.txt"


def _load(name: str) -> NftRuleset:
    require_shared()
    text = (DUMPS / name).read_text()
    return parse_nft_json(text, name) if name.endswith(".json") else parse_nft_text(text, name)


def _semantic(nft: NftRuleset) -> dict:
    """What routes packets, independent of how it was printed."""
    out = {}
    for key, t in nft.tables.items():
        chains = {}
        for c in t.chains.values():
            rules = []
            for r in c.rules:
                exprs = [e if "reject" not in e else {"reject": None} for e in r.exprs]  # nft -j adds the default type
                rules.append((r.position, json.dumps(exprs, sort_keys=True), r.comment))
            chains[c.name] = (c.type, c.hook, c.prio, c.policy, rules)
        sets = {s.name: (s.kind, s.type, s.map_type, s.timeout,
                         sorted((e.key, str(e.value), e.comment) for e in s.elements)) for s in t.sets.values()}
        out[key] = (chains, sets)
    return out


# --- the three printings of kube-proxy's table agree ------------------------------------


def test_json_text_and_transaction_forms_agree():
    j, t, u = (_semantic(_load(n)) for n in (DERIVED_JSON, DERIVED_TEXT, UPSTREAM))
    assert j == t
    assert j == u
    assert set(j) == {("ip", "kube-proxy")}


def test_upstream_table_facts():
    table = _load(UPSTREAM).table("ip", "kube-proxy")
    assert table.comment == "rules for kube-proxy"
    svc_ips = table.set("service-ips")
    assert (svc_ips.kind, svc_ips.type, svc_ips.map_type) == ("map", ("ipv4_addr", "inet_proto", "inet_service"), "verdict")
    assert svc_ips.lookup("172.30.0.41", "tcp", 80).value == Verdict("goto", "service-ULMVA6XW-ns1/svc1/tcp/p80")
    assert svc_ips.lookup("172.30.0.41", "TCP", "80") is not None  # lookups normalise case and numbers
    no_ep = table.set("no-endpoint-services").lookup("172.30.0.46", "tcp", 80)
    assert (no_ep.value, no_ep.comment) == (Verdict("goto", "reject-chain"), "ns6/svc6:p80")
    assert table.set("no-endpoint-nodeports").lookup("tcp", 3001).value == Verdict("drop")
    affinity = table.set("affinity-GTK6MW7G-ns5/svc5/tcp/p80__10.180.0.3/80")
    assert (affinity.timeout, "timeout" in affinity.flags) == (10800, True)
    assert table.chains["filter-prerouting-pre-dnat"].prio == -110  # the newer base-chain names
    svc4 = table.chains["service-LAUZTJTB-ns4/svc4/tcp/p80"].rules
    assert svc4[1].exprs[0]["vmap"]["key"]["numgen"]["mod"] == 2
    dnat = table.chains["endpoint-UNZV3OEC-ns4/svc4/tcp/p80__10.180.0.4/80"].rules[-1].find("dnat")
    assert dnat == {"addr": "10.180.0.4", "port": 80}
    rule = table.chains["service-ULMVA6XW-ns1/svc1/tcp/p80"].rules[0]
    assert (rule.loc.source, rule.loc.line_no) == (UPSTREAM, 57)
    assert rule.raw.startswith("ip daddr 172.30.0.41 ip saddr != 10.0.0.0/8 jump mark-for-masquerade")


def test_json_objects_keep_a_pointer():
    table = _load(DERIVED_JSON).table("ip", "kube-proxy")
    element = table.set("service-ips").lookup("172.30.0.41", "tcp", 80)
    assert element.loc.ref == f"{DERIVED_JSON}#/nftables/7/map/elem/4"
    assert element.raw == "172.30.0.41 . tcp . 80 : goto service-ULMVA6XW-ns1/svc1/tcp/p80"


def test_k3s_table_with_older_base_chains_and_eight_space_indent():
    table = _load(K3S).table("ip", "kube-proxy")
    assert {"filter-prerouting", "filter-output-post-dnat"} <= set(table.chains)
    assert table.chains["filter-prerouting"].prio == -110  # "dstnat - 10"
    assert table.chains["nat-postrouting"].prio == 100  # "srcnat"
    assert len(table.set("service-ips").elements) == 9
    assert table.set("no-endpoint-nodeports").elements == []
    vmap = table.chains["service-P6J77WGM-riset/hellopod-np-svc/tcp/"].rules[1].exprs[0]["vmap"]
    assert vmap["key"]["numgen"]["mod"] == 9 and len(vmap["data"]["set"]) == 9
    masq = table.chains["service-FY5PMXPG-kube-system/kube-dns/udp/dns"].rules[0]
    assert [m.left for m in masq.matches()] == ["ip daddr", "udp dport", "ip saddr"]


# --- iptables-nft's `table ip nat`: what the version-skew check reads ---------------------------


@pytest.mark.parametrize("name", ["nft-list-table-ip-nat.json", "nft-list-table-ip-nat.txt"])
def test_rule_summary_of_iptables_nft_nat_table(name):
    text = (EXAMPLE / name).read_text()
    nft = parse_nft_json(text, name) if name.endswith(".json") else parse_nft_text(text, name)
    nat = nft.table("ip", "nat")
    services = [rule_summary(r) for r in nat.chains["KUBE-SERVICES"].rules]
    assert [(s.position, s.jump, s.protocol, s.dport, s.daddr, s.packets, s.bytes) for s in services] == [
        (1, "KUBE-SVC-R4PDB35TUPNR4CEW", "tcp", 39090, "10.101.173.15", 2, 120),
        (2, "KUBE-SVC-P73F5K5MMQHXGZV7", "tcp", 49191, "10.101.173.15", 1, 60),
        (3, "KUBE-NODEPORTS", None, None, None, 0, 0),
    ]
    nodeports = [rule_summary(r) for r in nat.chains["KUBE-NODEPORTS"].rules]
    assert [(s.dport, s.jump) for s in nodeports] == [(30725, "KUBE-EXT-R4PDB35TUPNR4CEW"), (31576, "KUBE-EXT-P73F5K5MMQHXGZV7")]
    post = rule_summary(nat.chains["KUBE-POSTROUTING"].rules[0])
    assert (post.mark, post.jump, post.packets) == ("!0x4000/0x4000", None, 3)
    sep = rule_summary(nat.chains["KUBE-SEP-AA54JU3D4RO26WUA"].rules[1])
    assert (sep.protocol, sep.dport, sep.packets, sep.bytes) == ("tcp", None, 2, 120)
    assert nft.has_counters
    if name.endswith(".json"):  # JSON keeps iptables-nft's compat blobs opaque, and says so
        assert sep.xt == ("match comment", "match tcp", "target DNAT")
        assert services[0].ref == f"{name}#/nftables/33/rule"
    else:  # the text form translates the DNAT target
        assert nat.chains["KUBE-SEP-AA54JU3D4RO26WUA"].rules[1].find("dnat") == {"addr": "192.168.189.15", "port": 9090}


# --- detection predicates ---------------------------------------------------------------------------


def test_detection_predicates_tell_the_forms_apart():
    require_shared()
    texts = {name: (DUMPS / name).read_text() for name in (UPSTREAM, DERIVED_TEXT, DERIVED_JSON, K3S,
                                                            "upstream-ipvs-readme-ipvsadm-ln.txt",
                                                            "upstream-iptables-proxier-test-TestOverallIPTablesRules.txt",
                                                            "derived-netns-iptables-nft-save-from-upstream-TestOverallIPTablesRules.txt")}
    nat_text = (EXAMPLE / "nft-list-table-ip-nat.txt").read_text()
    assert looks_like_nft_text(texts[UPSTREAM]) and looks_like_nft_text(texts[DERIVED_TEXT])
    assert looks_like_nft_text(texts[K3S]) and looks_like_nft_text(nat_text)
    assert looks_like_nft_json(texts[DERIVED_JSON]) and not looks_like_nft_text(texts[DERIVED_JSON])
    assert looks_like_ipvsadm(texts["upstream-ipvs-readme-ipvsadm-ln.txt"])
    for name in ("upstream-iptables-proxier-test-TestOverallIPTablesRules.txt",
                 "derived-netns-iptables-nft-save-from-upstream-TestOverallIPTablesRules.txt"):
        assert not looks_like_nft_text(texts[name]) and not looks_like_ipvsadm(texts[name])
        assert not looks_like_conntrack(texts[name])
    assert not looks_like_ipvsadm(texts[K3S]) and not looks_like_conntrack(texts[K3S])
    assert not looks_like_nft_json(texts[K3S])


# --- bad input is an error with a line, never half an answer ------------------------------------------


@pytest.mark.parametrize("text,line,reason", [
    ("table ip kube-proxy {\n\tchain services {\n\t\tjump foo\n", 3, "not closed"),
    ("table ip kube-proxy {\n\tmap m {\n\t\ttype ipv4_addr : verdict\n\t\telements = { 1.2.3.4 : goto x\n", None, "end of input"),
    ('table ip t {\n\tchain c {\n\t\tjump x comment "open\n\t}\n}\n', 3, "unterminated"),
    ("add element ip kube-proxy service-ips { 1.2.3.4 . tcp . 80 : goto x }\n", 1, "undeclared"),
    ("hello world\n", 1, "unexpected"),
    ("table ip t {\n\twidget w\n}\n", 2, "unexpected"),
])
def test_bad_nft_text(text, line, reason):
    with pytest.raises(BadDump) as e:
        parse_nft_text(text, "dump.txt")
    assert reason in e.value.reason
    assert e.value.exit_code == ExitCode.BAD_DUMP
    if line:
        assert e.value.line_no == line


@pytest.mark.parametrize("text,reason", [
    ('{"nftables": [{"table": {"family": "ip"', "not valid JSON"),
    ('{"foo": []}', '"nftables"'),
    ('{"nftables": [{"rule": {"family": "ip", "table": "t", "expr": []}}]}', "lacks 'chain'"),
    ('{"nftables": [{"rule": {"family": "ip", "table": "t", "chain": "c", "expr": {"x": 1}}}]}', "malformed expr"),
    ('{"nftables": [42]}', "not a one-key object"),
])
def test_bad_nft_json(text, reason):
    with pytest.raises(BadDump) as e:
        parse_nft_json(text, "dump.json")
    assert reason in e.value.reason


def test_unknown_statements_are_kept_not_rejected():
    nft = parse_nft_text('table inet t {\n\tchain c {\n\t\tip daddr 10.0.0.1 limit rate 10/second counter packets 5 bytes 300 accept\n\t}\n}\n', "x")
    rule = nft.table("inet", "t").chains["c"].rules[0]
    assert rule.verdict == Verdict("accept")
    assert rule.counter == (5, 300)
    assert {"unknown": "limit rate 10/second"} in rule.exprs
    assert rule_summary(rule).daddr == "10.0.0.1"


def test_transaction_flush_delete_and_insert():
    text = "\n".join([
        "add table ip kube-proxy",
        "add chain ip kube-proxy c",
        "add rule ip kube-proxy c jump a",
        "insert rule ip kube-proxy c jump first",
        "add map ip kube-proxy m { type inet_proto . inet_service : verdict ; }",
        "add element ip kube-proxy m { tcp . 1 : drop, tcp . 2 : goto x }",
        "delete element ip kube-proxy m { tcp . 1 }",
        "add chain ip kube-proxy gone",
        "delete chain ip kube-proxy gone",
        "",
    ])
    table = parse_nft_text(text, "tx").table("ip", "kube-proxy")
    assert [(r.position, r.verdict.target) for r in table.chains["c"].rules] == [(1, "first"), (2, "a")]
    assert [e.key for e in table.set("m").elements] == [("tcp", 2)]
    assert "gone" not in table.chains


@pytest.mark.parametrize("statement,expected", [
    ("meta l4proto udp ip daddr 10.96.0.10 udp dport 53 counter packets 7 bytes 420 jump KUBE-SVC-X",
     ("udp", 53, "10.96.0.10", None, "KUBE-SVC-X", False, 7)),
    ("ip daddr != 10.0.0.0/8 tcp dport 30000-32767 goto KUBE-NODEPORTS", ("tcp", "30000-32767", "!10.0.0.0/8", None, "KUBE-NODEPORTS", True, None)),
    ("tcp dport { 80, 443 } accept", ("tcp", "{80,443}", None, None, None, False, None)),
    ("meta mark 0x00004000 counter packets 1 bytes 60 accept", (None, None, None, "0x4000", None, False, 1)),
    ("ip protocol tcp th dport != 22 drop", ("tcp", "!22", None, None, None, False, None)),
])
def test_rule_summary_variants(statement, expected):
    nft = parse_nft_text(f"table ip nat {{\n\tchain C {{\n\t\t{statement}\n\t}}\n}}\n", "x")
    s = rule_summary(nft.table("ip", "nat").chains["C"].rules[0])
    assert (s.protocol, s.dport, s.daddr, s.mark, s.jump, s.goto, s.packets) == expected
    assert s.position == 1 and s.ref == "x:3"


# Rule statements of `nft -j` are read when used (big tables have 100k rules), so a shape nft never
# writes must fail there as one error line, not a traceback (fuzz campaign of seed 1, cases 1473
# and 1869): a counter whose packets are a string, a prefix without its address.
def test_nft_json_counter_that_is_no_number_is_one_error_line(tmp_path):
    doc = (EXAMPLE / "nft-list-table-ip-nat.json").read_text()
    hostile = doc.replace('"counter": {"packets": 2, "bytes": 120}', '"counter": {"packets": "\\u001b]8;;http://evil/", "bytes": 120}', 1)
    assert hostile != doc
    f = tmp_path / "nat.json"
    f.write_text(hostile)
    code, out, err = svcpath("--rules-file", str(f), "--manifest", str(EXAMPLE / "manifest.yaml"), "hello-service")
    assert code == ExitCode.BAD_DUMP and out == ""
    first, hint = err.splitlines()
    assert first.startswith(f"error: {f}: /nftables/") and "a counter whose packets or bytes are not a number" in first
    assert "\x1b" not in err and hint.startswith("hint: ")


@pytest.mark.parametrize("prefix", ['{}', '{"len": 16}', '"192.168.0.0/16"', '[]'])
def test_nft_json_odd_prefix_is_shown_not_a_crash(tmp_path, prefix):
    doc = (EXAMPLE / "nft-list-table-ip-nat.json").read_text()
    f = tmp_path / "nat.json"
    f.write_text(doc.replace('{"prefix": {"addr": "192.168.0.0", "len": 16}}', '{"prefix": ' + prefix + '}'))
    args = ("--manifest", str(EXAMPLE / "manifest.yaml"), "hello-service", "-o", "wide")
    code, out, err = svcpath("--rules-file", str(f), *args)
    want_code, want, _ = svcpath("--rules-file", str(EXAMPLE / "nft-list-table-ip-nat.json"), *args)
    assert err == "" and code == want_code  # the masquerade rule's source match is not on the path
    assert out.splitlines()[:2] == want.splitlines()[:2] and "KUBE-SEP-AA54JU3D4RO26WUA" in out



@pytest.mark.parametrize("target", ['{"x": 1}', '[]', 'null', '5'])
def test_nft_json_jump_target_that_is_no_name_is_unknown_not_a_crash(tmp_path, target):
    """kube-proxy's nftables table with jumps whose target is an object, a list, null or a number (fuzz
    seed 32: --trace took an object for a chain name, a traceback): the trace stops there, 'unknown', and
    says the jump is not followed; --all still lists every Service."""
    require_shared()
    doc = (DUMPS / DERIVED_JSON).read_text()
    hostile = doc.replace('"chain": "filter-prerouting-pre-dnat", "handle": 43, "expr": [{"match": {"op": "in", "left": '
                              '{"ct": {"key": "state"}}, "right": "new"}}, {"jump": {"target": "firewall-check"}}',
                              '"chain": "filter-prerouting-pre-dnat", "handle": 43, "expr": [{"match": {"op": "in", "left": '
                              '{"ct": {"key": "state"}}, "right": "new"}}, {"jump": {"target": ' + target + '}}')
    assert hostile != doc
    f = tmp_path / "kp.json"
    f.write_text(hostile)
    code, out, err = svcpath("--rules-file", str(f), "ns1/svc1", "--trace", "10.0.0.1")
    assert code == 0 and err == "", err
    assert "Verdict:  unknown" in out and "jump is not followed" in out
    code, out, err = svcpath("--rules-file", str(f), "--all")
    want_code, want, _ = svcpath("--rules-file", str(DUMPS / DERIVED_JSON), "--all")
    assert err == "" and (code, len(out.splitlines())) == (want_code, len(want.splitlines()))

# --- big `nft -j` tables: indexed, each chain read when asked ------------------------------------


def _text(name: str) -> str:
    require_shared()
    return (DUMPS / name).read_text()


def _whole(text: str, source: str) -> NftRuleset:
    from kubectl_svcpath.modes.nftables.parse_json import _parse  # the whole document at once

    return _parse(text, source)


def _interleaved() -> str:
    """A JSON transaction (``nft -j -f``) that adds rules to two chains in turn, one before its chain."""
    def rule(chain: str, target: str, counter: bool = False) -> dict:
        expr = ([{"counter": {"packets": 3, "bytes": 180}}] if counter else []) + [{"jump": {"target": target}}]
        return {"add": {"rule": {"family": "ip", "table": "t", "chain": chain, "expr": expr}}}
    items = [{"metainfo": {"json_schema_version": 1}}, {"add": {"table": {"family": "ip", "name": "t"}}},
             rule("b", "x1"),
             {"add": {"chain": {"family": "ip", "table": "t", "name": "a", "type": "nat", "hook": "prerouting",
                                "prio": -100, "policy": "accept"}}},
             rule("a", "y1"), rule("a", "y2"), rule("b", "x2", counter=True), rule("a", "y3"),
             {"add": {"chain": {"family": "ip", "table": "t", "name": "b"}}}]
    return json.dumps({"nftables": items}, indent=1)


@pytest.mark.parametrize("name", [DERIVED_JSON, "interleaved"])
def test_indexed_json_reads_what_the_whole_document_reads(name):
    text = _interleaved() if name == "interleaved" else _text(name)
    indexed, whole = parse_nft_json(text, name), _whole(text, name)
    assert _semantic(indexed) == _semantic(whole)
    for key, table in whole.tables.items():
        mine = indexed.tables[key]
        assert isinstance(mine.chains, LazyChains)  # read through the index, not the whole document
        assert list(mine.chains) == list(table.chains)  # the order the document names them
        assert [c.name for c in mine.base_chains()] == [c.name for c in table.base_chains()]
        assert mine.has_counted_rules == table.has_counted_rules
        for cname, chain in table.chains.items():
            got = mine.chains[cname]
            assert (got.declared, got.loc, got.handle) == (chain.declared, chain.loc, chain.handle)
            assert [(r.loc.ref, r.raw) for r in got.rules] == [(r.loc.ref, r.raw) for r in chain.rules]
        mine.release()  # an audit drops a Service's chains once its report is done: read again alike
        assert [r.raw for c in mine.chains.values() for r in c.rules] == [r.raw for r in table.rules()]


def test_indexed_json_positions_across_interleaved_runs():
    table = parse_nft_json(_interleaved(), "tx.json").table("ip", "t")
    assert [(r.position, r.verdict.target, r.loc.ref) for r in table.chains["a"].rules] == [
        (1, "y1", "tx.json#/nftables/4/add/rule"), (2, "y2", "tx.json#/nftables/5/add/rule"),
        (3, "y3", "tx.json#/nftables/7/add/rule")]
    b = table.chains["b"]
    assert [(r.position, r.counter) for r in b.rules] == [(1, None), (2, (3, 180))]
    assert b.declared and b.loc.ref == "tx.json#/nftables/8/add/chain"
    assert table.chains["a"].hook == "prerouting" and table.has_counted_rules


@pytest.mark.parametrize("cut", [0.3, 0.6, 0.999])
def test_truncated_json_is_an_error_not_a_smaller_table(cut):
    text = _text(DERIVED_JSON)
    with pytest.raises(BadDump) as e:
        parse_nft_json(text[:int(len(text) * cut)], "cut.json")
    assert "not valid JSON" in e.value.reason and e.value.exit_code == ExitCode.BAD_DUMP


def test_json_with_more_after_the_list_is_read_whole():
    doc = json.loads(_text(DERIVED_JSON))
    doc["extra"] = {"note": "added by a tool"}  # not nft's layout: the whole-document reader takes it
    nft = parse_nft_json(json.dumps(doc), "x.json")
    assert not isinstance(nft.table("ip", "kube-proxy").chains, LazyChains)
    assert _semantic(nft) == _semantic(_load(DERIVED_JSON))


# --- big `nft list` tables: chain blocks found by their layout, read when asked --------------------


def _whole_text(text: str, source: str) -> NftRuleset:
    """Every token of the text read at once (the reader before the index)."""
    from kubectl_svcpath.modes.nftables.text_structure import StructureReader
    from kubectl_svcpath.modes.nftables.text_tokens import tokenize

    reader = StructureReader(tokenize(text, source), source)
    reader.read()
    return reader.ruleset


def _nft_texts() -> list[tuple[str, str]]:
    require_shared()
    out = [(p.name, p.read_text()) for p in sorted(DUMPS.glob("*nft*.txt")) if looks_like_nft_text(p.read_text())]
    out.append(("nft-list-table-ip-nat.txt", (EXAMPLE / "nft-list-table-ip-nat.txt").read_text()))
    return out


def _same_model(indexed: NftRuleset, whole: NftRuleset) -> None:
    assert _semantic(indexed) == _semantic(whole)
    assert indexed.has_counters == whole.has_counters
    for key, table in whole.tables.items():
        mine = indexed.tables[key]
        assert list(mine.chains) == list(table.chains)
        assert [c.name for c in mine.base_chains()] == [c.name for c in table.base_chains()]
        assert mine.has_counted_rules == table.has_counted_rules
        for cname, chain in table.chains.items():
            got = mine.chains[cname]
            assert (got.declared, got.loc, got.comment) == (chain.declared, chain.loc, chain.comment)
            assert [(r.loc.ref, r.raw, r.position) for r in got.rules] == [(r.loc.ref, r.raw, r.position) for r in chain.rules]
        for sname, s in table.sets.items():
            assert [(e.loc.ref, e.raw) for e in mine.sets[sname].elements] == [(e.loc.ref, e.raw) for e in s.elements]


def test_indexed_text_reads_what_the_whole_text_reads():
    texts = _nft_texts()
    assert len(texts) >= 4
    lazy = 0
    for name, text in texts:
        indexed = parse_nft_text(text, name)
        _same_model(indexed, _whole_text(text, name))
        lazy += any(isinstance(t.chains, LazyChains) for t in indexed.tables.values())
    assert lazy == len(texts) - 1  # every listing went through the index (not the transaction text)


def test_indexed_text_chain_listed_twice_commands_and_counters():
    text = "\n".join([
        "table ip t {",
        "\tchain a {",
        "\t\ttype nat hook prerouting priority dstnat; policy accept;",
        "\t\tjump b",
        "\t}",
        "\tmap m {",
        "\t\ttype ipv4_addr : verdict",
        '\t\telements = { 10.0.0.1 comment "x, {y}" : goto b,',
        "\t\t\t     10.0.0.2 : drop }",
        "\t}",
        "\tchain b {",
        "\t\tip daddr 10.0.0.9 counter packets 4 bytes 240 accept",
        "\t}",
        "\tchain a {",
        "\t\tjump c",
        "\t}",
        "\tchain c {",
        "\t\tjump z",
        "    }",  # not the block's own indentation: read with the rest, token by token
        "}",
        "add rule ip t b drop",
        "flush chain ip t c",
        "",
    ])
    nft = parse_nft_text(text, "t.txt")
    _same_model(nft, _whole_text(text, "t.txt"))
    table = nft.table("ip", "t")
    # chain a listed again with other rules: two moments pasted together, the later one read (as iptables -S pastes)
    assert [(r.position, r.raw) for r in table.chains["a"].rules] == [(1, "jump c")]
    assert nft.dumps[0].relisted == [("ip t", "a", [2, 14])]
    assert [r.raw for r in table.chains["b"].rules] == ["ip daddr 10.0.0.9 counter packets 4 bytes 240 accept", "drop"]
    assert table.chains["c"].rules == []
    assert nft.has_counters and table.has_counted_rules
    assert [(e.key, e.comment, e.loc.ref) for e in table.set("m").elements] == [
        (("10.0.0.1",), "x, {y}", "t.txt:8"), (("10.0.0.2",), None, "t.txt:9")]
    table.release()  # the audit's release keeps what a command changed
    assert table.chains["c"].rules == [] and len(table.chains["b"].rules) == 2


@pytest.mark.parametrize("text,line,reason", [
    # a quote left open inside a chain block nobody asked for yet: still refused up front
    ('table ip t {\n\tchain a {\n\t\tjump b\n\t}\n\tchain b {\n\t\tjump x comment "open\n\t}\n}\n', 6, "unterminated"),
    # cut inside the last chain: that chain is not closed
    ("table ip t {\n\tchain a {\n\t\tjump b\n\t}\n\tchain b {\n\t\tjump x\n", 6, "not closed"),
    # cut after a whole chain: the table is not closed
    ("table ip t {\n\tchain a {\n\t\tjump b\n\t}\n", None, "end of input"),
])
def test_indexed_text_still_refuses_what_is_broken(text, line, reason):
    with pytest.raises(BadDump) as e:
        parse_nft_text(text, "dump.txt")
    assert reason in e.value.reason and e.value.exit_code == ExitCode.BAD_DUMP
    if line:
        assert e.value.line_no == line


# nft -j values of another JSON type where nft writes a string, or an empty statement (fuzz seed 3,
# cases 1012, 1110, 220): a report or one error line, never a traceback.
def test_nft_json_verdict_target_that_is_a_number_is_no_chain(tmp_path):
    text = _text(DERIVED_JSON)
    f = tmp_path / "kp.json"
    f.write_text(text.replace('"goto": {"target": "external-', '"goto": {"target": 1.5, "x": "', 1))
    code, out, err = svcpath("--rules-file", str(f), "--all", "-o", "wide")
    assert "internal error" not in err and code in (0, 3) and "svc1" in out


def test_nft_json_empty_statement_is_shown_not_a_crash(tmp_path):
    doc = (EXAMPLE / "nft-list-table-ip-nat.json").read_text()
    f = tmp_path / "nat.json"
    f.write_text(doc.replace('"expr": [', '"expr": [{}, ', 1))
    code, out, err = svcpath("--rules-file", str(f), "--manifest", str(EXAMPLE / "manifest.yaml"), "hello-service",
                             "--proxy-mode", "iptables", "-o", "tree")
    assert err == "" and code == 0 and "KUBE-SVC-R4PDB35TUPNR4CEW" in out
