"""What authors do when they walk a Service's rules in a shell and paste the session: several greps of one
dump under their prompts, a chain listed again after a change, arrows pointing at rows, a bare prompt at
the end. Checked on the real pastes of tests/corpus (robric/k8s-svc-and-lb-testing, k3s v1.29.5) as users
run the plugin: table, --all and JSON.
"""

from __future__ import annotations

import json
from pathlib import Path

from tests.conftest import svcpath

CORPUS = Path(__file__).resolve().parents[2] / "corpus"
LB_WALK = str(CORPUS / "robric-k3s129-grep-loadbalancer-walk.txt")
CIP_WALK = str(CORPUS / "robric-k3s129-grep-clusterip-walk-notes.txt")
ARROWS = str(CORPUS / "robric-k3s129-L-n-v-arrow-marks.txt")
TWO_STATES = str(CORPUS / "robric-k3s129-S-v-counters-two-states.txt")


def _run(*args: str) -> str:
    code, out, err = svcpath(*args)
    assert code in (0, 3), err
    return out


def test_a_grep_walk_reads_each_rule_once() -> None:
    """Four greps print the loadbalancer and cluster IP rules twice each: one entry each, and the three
    endpoint chains (their DNAT not in the input) are three endpoints, not "1 endpoint" (and "?:?" before
    the jumps' comments were read)."""
    out = _run("default/nginx-mlb-l2-service", "--rules-file", LB_WALK)
    assert out.splitlines()[0].startswith("(unnamed) 80/TCP → 3 endpoints (state not in the input)")
    entries = [line.removeprefix("(unnamed) 80/TCP").split()[0] for line in out.splitlines()
               if "KUBE-SVC-W47NQ5DDJKUWFTVY" in line]
    assert entries == ["loadBalancer", "clusterIP", "nodePort"], out
    # 3 entries x 3 endpoints, named by the jumps' comments (their endpoint chains are not in the input)
    assert sum(line.count("10.42.") for line in out.splitlines()) == 9 and "?:?" not in out
    assert "lines 8, 14, 15, 16 repeat rules shown earlier in the paste" in out


def test_a_grep_walk_keeps_the_shares_and_its_bare_prompt_is_no_rule() -> None:
    """The jump rules printed by two greps were six rules of one chain (no share could be computed); the
    closing bare prompt ("ubuntu@vm1:~$  ") was refused as "not an iptables-save line"."""
    out = _run("default/nginx-service", "--rules-file", CIP_WALK)
    shares = [line.split()[-3] for line in out.splitlines() if ":80 " in line and "10.42." in line]
    assert shares == ["33.3%", "33.3%", "33.3%"], out
    assert "not an iptables-save line" not in out


def test_a_chain_listed_at_several_moments_is_read_from_its_last_listing() -> None:
    """`iptables -L KUBE-EXT-… -n -v` before (Cluster policy) and after (Local) a change: the last listing is
    read, with a note; the arrows the author put before rows are no part of them; a port whose rules the
    listing does not show is "not in the input", never "NO RULES … not programmed" nor "ok"."""
    out = _run("default/nginx-mlb-l2-service", "--rules-file", ARROWS, "--lenient")
    assert ("chain KUBE-EXT-W47NQ5DDJKUWFTVY is listed 3 times with other rules (lines 6, 19, 36): several moments "
            "pasted together; read from its last listing (line 36)") in out
    assert "the author's marks (arrows before, Markdown emphasis, '//', '<--' or '>>' notes after) on lines 8, 9, 24, 39, 40 were read as no part of the rules" in out
    assert "NO RULES" not in out and "not programmed" not in out
    assert "KUBE-SVL-W47NQ5DDJKUWFTVY: not in the input" in out  # followed from the KUBE-EXT chain shown
    row = _run("--all", "--rules-file", ARROWS, "--lenient").splitlines()[1].split()
    assert row[:2] == ["default", "nginx-mlb-l2-service"] and row[5] == "?" and " ".join(row[7:]) == "?: not in the input"


def test_a_port_no_rule_of_which_an_excerpt_shows_is_not_in_the_input(tmp_path: Path) -> None:
    """A Service from the API whose rules a pasted grep walk does not hold (it walks another Service): the
    table, tree and --all say its rules are not in the input, not "NO RULES … not programmed" nor "ok"."""
    manifest = tmp_path / "web.yaml"
    manifest.write_text("apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: Service\n"
                        "  metadata: {name: web, namespace: default}\n  spec:\n    type: ClusterIP\n"
                        "    clusterIP: 10.96.5.5\n    clusterIPs: [10.96.5.5]\n"
                        "    ports: [{name: http, port: 80, protocol: TCP, targetPort: 8080}]\n", encoding="utf-8")
    args = ("--manifest", str(manifest), "--rules-file", LB_WALK)
    out = _run("default/web", *args)
    assert "http 80/TCP  ?      not in the input" in out and "NO RULES" not in out and "not programmed" not in out, out
    tree = _run("default/web", *args, "-o", "tree")
    assert "its rules are not in the input" in tree and "no rules for this port" not in tree, tree


def test_iptables_S_listed_again_after_a_change_says_the_later_policy() -> None:
    """`iptables -S KUBE-EXT-… -v` before and after externalTrafficPolicy became Local: the earlier listing is
    left out with a note (read together, the chain said Cluster: the earlier state)."""
    out = _run("default/nginx-mlb-l2-service", "--rules-file", TWO_STATES, "--lenient")
    assert ("chain KUBE-EXT-W47NQ5DDJKUWFTVY is listed twice (-N at lines 5, 12): several moments pasted together; "
            "its last listing is read, lines 5, 6, 7 left out") in out
    doc = json.loads(_run("default/nginx-mlb-l2-service", "--rules-file", TWO_STATES, "--lenient", "-o", "json"))
    assert doc["service"]["externalTrafficPolicy"] == "Local"
    # the endpoint chains are not in the input: their jumps name the endpoints and carry "-c 0 0"
    hops = doc["ports"][0]["paths"][0]["endpoints"]
    assert [(h["ip"], h["port"], h["packets"], h["bytes"]) for h in hops][:2] == [("10.42.0.25", 8080, 0, 0),
                                                                                ("10.42.0.26", 8080, 0, 0)]


def test_walk_clean_rules(tmp_path: Path) -> None:
    """The cleaner's own rules: a repeat within one command's output is a real duplicate (kept); whole
    tables are never thinned (two nodes' dumps hold the same rules); a bare prompt is a command line."""
    from kubectl_svcpath.parse.excerpt import clean

    rule = "-A KUBE-SVC-X -j KUBE-SEP-Y"
    same_run = clean(f"$ iptables-save | grep X\n{rule}\n{rule}\n")
    assert same_run.repeated == [] and same_run.text.count(rule) == 2
    two_runs = clean(f"$ iptables-save | grep X\n{rule}\n$ iptables-save | grep Y\n{rule}\nuser@host:~$\n")
    assert two_runs.repeated == [4] and two_runs.text.split("\n")[4] == "# user@host:~$"
    tables = f"# node1$ iptables-save\n*nat\n{rule}\nCOMMIT\n# node2$ iptables-save\n*nat\n{rule}\nCOMMIT\n"
    assert clean(tables).repeated == []


DROP_BOTH = str(CORPUS / "matrixzj-ext-services-drop-L-and-grep.txt")
SEP_BOTH = str(CORPUS / "matrixzj-sep-L-vn-and-grep.txt")
EXT_BOTH = str(CORPUS / "matrixzj-ext-local-L-and-grep.txt")


def test_a_chain_listed_with_L_and_grepped_from_a_save_reads_both_forms() -> None:
    """`iptables -L CHAIN -vn`, then the same chain's save lines, in one paste (matrixzj/documentations): each
    form is read (the save lines' DNAT, the listing's counters); it was refused at the first save line."""
    doc = json.loads(_run("default/nginx", "--rules-file", SEP_BOTH, "-o", "json"))
    hop = doc["ports"][0]["paths"][0]["endpoints"][0]
    assert (hop["ip"], hop["port"], hop["packets"], hop["bytes"]) == ("10.64.2.4", 80, 0, 0)


def test_a_node_port_seen_without_the_nat_table_is_no_type() -> None:
    """A node port's DROP in the filter table (eTP Local, no local endpoint): the type is not in the input (a
    LoadBalancer's node port looks the same and its address rule would be in nat KUBE-SERVICES); the column
    says no endpoint is local, not that the Service has none."""
    row = _run("--all", "--rules-file", DROP_BOTH).splitlines()[1].split()
    assert row[:6] == ["default", "nginx", "?", "?", "?:30783", "0"] and row[6] == "local", row
    out = _run("default/nginx", "--rules-file", DROP_BOTH)
    assert "Unknown:  type: not in the input" in out and "DROP (no local endpoints)" in out


def test_an_external_chain_alone_is_followed_to_where_the_input_ends() -> None:
    """Only KUBE-EXT-… is in the input: the report starts there and says its next chain is not in the input."""
    out = _run("default/nginx", "--rules-file", EXT_BOTH)
    assert "KUBE-SVL-2CMXP7HKUVJN7L6M: not in the input" in out and "NO RULES" not in out


MIXED = str(CORPUS / "robric-k3s129-grep-S-v-L-nodeport-mixed.txt")


def test_L_v_without_n_any_interface_is_no_match() -> None:
    """`iptables -L -v` without -n prints "any" for no interface: the KUBE-EXT jump to KUBE-SVC is
    unconditional (Cluster policy), not a match that leaves external traffic to a DROP."""
    out = _run("default/nginx-np-service", "--rules-file", MIXED, "--lenient")
    assert "DROP (no local" not in out and "no-local-endpoints" not in out
    node_port = [line for line in out.splitlines() if "*:30000" in line]
    assert node_port and "KUBE-SVC-MUSBZEOMK5UKWKKU" in node_port[0], out


def test_markdown_notes_with_bold_lines_and_bold_rule_words_are_read() -> None:
    """A notes file kept as Markdown (IwasawaMasami/CloudNative): bold prose lines between the rules, one
    starting with "**" (it was taken for a table header: "No Service in the input" with --lenient), and
    words of a rule in bold."""
    paste = str(CORPUS / "iwasawa-md-notes-bold-rules.txt")
    out = _run("--all", "--rules-file", paste, "--lenient")
    assert out.splitlines()[1].split()[:5] == ["default", "nginx-basic", "NodePort", "10.97.35.60", "80:30207"], out
    assert "on lines 19, 21 were read as no part of the rules" in out


def test_a_listing_command_piped_or_alone_without_a_prompt_is_a_command_line() -> None:
    """`sudo iptables-save | grep nginx-ext` above its output (weaveworks/weave#3568) was refused at line 1."""
    from kubectl_svcpath.parse.excerpt import clean

    out = _run("default/nginx-ext", "--rules-file", str(CORPUS / "weave-3568-grep-bare-command-xlb.txt"))
    assert "DROP (no local endpoints)" in out and "10.44.0.56:80" in out
    for first in ("sudo iptables-save | grep x", "iptables-save", "iptables-save > /tmp/rules", "ip6tables-save -t nat"):
        assert clean(first + "\n-A KUBE-SVC-X -j KUBE-SEP-Y\n").commands == [1], first


def test_greps_under_roots_bare_prompt_read_each_rule_once(tmp_path: Path) -> None:
    """`# iptables-save | grep …` twice (root's prompt is a bare "# "): the entry rule both greps print is one
    rule, read once with a note, not two entries of the same port."""
    svc = "KUBE-SVC-AAAAAAAAAAAAAAAA"
    entry = (f'-A KUBE-SERVICES -d 10.96.0.10/32 -p tcp -m comment --comment "ns/a cluster IP" -m tcp --dport 80 '
             f"-j {svc}")
    paste = tmp_path / "walk.txt"
    paste.write_text(f"# iptables-save | grep ns/a\n{entry}\n# iptables-save | grep {svc}\n{entry}\n"
                     f"-A {svc} -j KUBE-SEP-BBBBBBBBBBBBBBBB\n")
    doc = json.loads(_run("ns/a", "--rules-file", str(paste), "-o", "json"))
    assert len(doc["ports"]) == 1 and len(doc["ports"][0]["paths"]) == 1, doc["ports"]
    assert any("line 4 repeats rules shown earlier in the paste" in n for n in doc["notes"]), doc["notes"]
