"""Issue 10, the audit (--all): problems first, --problems, a totals line, 80 columns, -o json|yaml|wide."""

from __future__ import annotations

import json
from pathlib import Path

import yaml

from tests.conftest import DUMPS, SHARED, require_shared, svcpath
from tests.terminal import in_tmux

DUMP = "upstream-iptables-proxier-test-TestOverallIPTablesRules.txt"  # kube-proxy's own expectations
TOTALS = "6 Services, 6 ports, 6 endpoints: 1 error, 1 warning, 4 ok"


def _dump() -> str:
    require_shared()
    return str(DUMPS / DUMP)


def _rows(out: str) -> list[list[str]]:
    lines = out.splitlines()
    return [ln.split() for ln in lines[1:lines.index("")]]


def test_problem_services_come_first_then_namespace_and_name():
    code, out, err = svcpath("--rules-file", _dump(), "--all")
    assert code == 3, err  # an error-level finding: ns6/svc6 has no endpoints
    rows = _rows(out)
    assert [(r[0], r[1]) for r in rows] == [("ns6", "svc6"), ("ns2", "svc2"), ("ns1", "svc1"), ("ns3", "svc3"),
                                            ("ns4", "svc4"), ("ns5", "svc5")]
    assert rows[0][-2:] == ["error:", "no-endpoints"] and rows[1][-2:] == ["warning:", "no-local-endpoints"]
    assert TOTALS in out.splitlines()


def test_problems_keeps_only_services_with_findings_and_the_totals_of_all():
    code, out, _ = svcpath("--rules-file", _dump(), "--all", "--problems")
    assert code == 3
    assert [(r[0], r[1]) for r in _rows(out)] == [("ns6", "svc6"), ("ns2", "svc2")]
    assert f"{TOTALS} (2 shown: --problems)" in out


def test_problems_when_every_service_is_healthy_says_so_not_that_there_is_none(tmp_path):
    from tests.lab.kpgen import PortSpec, ServiceSpec, save_text

    dump = tmp_path / "iptables-save.txt"
    dump.write_text(save_text([ServiceSpec("shop", "web", "10.96.0.10", [PortSpec("http", 80, 8080)], endpoints=["10.244.1.5"])]))
    code, out, _ = svcpath("--rules-file", str(dump), "--all", "--problems")
    assert code == 0
    assert out.splitlines()[:3] == ["No Service with a problem.", "", "1 Service, 1 port, 1 endpoint: 0 errors, 0 warnings, 1 ok (0 shown: --problems)"]


def test_totals_count_one_in_the_singular():
    require_shared()
    _, out, _ = svcpath("--rules-file", str(DUMPS / "repo-sessionaffinity-experiment-test-my-nginx-before.txt"), "--all")
    assert "1 Service, 1 port, 3 endpoints: 0 errors, 0 warnings, 1 ok" in out.splitlines()



def test_tree_and_explain_with_all_are_refused_with_the_command_that_gives_them():
    """-o tree and --explain are one Service's views. With --all they printed the plain table, exit 0: -o tree with a
    note under it, --explain without a word (qa9). Refused as kubectl refuses flags that do not combine: one line, exit 2,
    naming the command that gives them and what --all offers instead."""
    code, out, err = svcpath("--example", "--all", "-o", "tree")
    assert (code, out) == (2, "")
    assert err.splitlines() == ["error: -o tree draws one Service's paths, not --all's list: name a Service (kubectl "
                                "svcpath NAMESPACE/NAME -o tree), or use --all with -o wide or -o json"]
    code, out, err = svcpath("--example", "--all", "--explain", "--problems")
    assert (code, out) == (2, "")
    assert err.splitlines() == ["error: --explain gives one Service's findings in full, not --all's list: name a Service "
                                "(kubectl svcpath NAMESPACE/NAME --explain), or use --all -o json (each Service's findings "
                                "with their evidence and fixes)"]
    code, out, _ = svcpath("--example", "--all", "-o", "json")  # (what the message offers holds them)
    finding = json.loads(out)["items"][0]["findings"][0]
    assert code == 0 and finding["evidence"] and finding["action"] and finding["detail"]
    code, out, _ = svcpath("--example", "hello-service", "--explain")  # (one Service: as before)
    assert code == 0 and "evidence:" in out

def test_problems_needs_all():
    code, _, err = svcpath("--rules-file", _dump(), "--problems")
    assert code == 2 and "--all" in err


def test_json_and_yaml_keep_the_order_and_carry_the_totals():
    _, out, _ = svcpath("--rules-file", _dump(), "--all", "--problems", "-o", "json")
    doc = json.loads(out)
    assert [i["service"]["name"] for i in doc["items"]] == ["svc6", "svc2"]
    assert doc["totals"] == {"services": 6, "ports": 6, "endpoints": 6, "error": 1, "warning": 1, "ok": 4, "unknown": 0, "unnamed": 0, "portless": 0, "endpointsNotInInput": 0}
    _, out, _ = svcpath("--rules-file", _dump(), "--all", "-o", "yaml")
    assert [i["service"]["name"] for i in yaml.safe_load(out)["items"]][:2] == ["svc6", "svc2"]


def test_fits_80_columns_in_a_terminal_and_wide_shows_every_column():
    lines = in_tmux(["--rules-file", _dump(), "--all"], 80)
    assert all(len(ln) <= 80 for ln in lines) and lines[0].startswith("NAMESPACE")
    assert TOTALS in lines
    _, wide, _ = svcpath("--rules-file", _dump(), "--all", "-o", "wide")
    assert wide.splitlines()[0].split() == ["NAMESPACE", "NAME", "TYPE", "CLUSTER-IP", "PORTS", "ENDPOINTS", "PKTS", "HEALTH"]


def test_the_lines_under_the_table_fit_80_columns_too():
    """The totals with --problems ran to 81 columns, the notes to 140: the terminal cut them mid-word."""
    require_shared()
    lines = in_tmux(["--rules-file", str(DUMPS / "repo-k3s-nft-list-table-ip-kube-proxy.txt"), "--all", "--problems"], 80)
    assert all(len(ln) <= 80 for ln in lines), "\n".join(lines)
    assert "7 Services, 11 ports, 14 endpoints: 1 error, 0 warnings, 6 ok (1 shown:" in lines
    lines = in_tmux(["--rules-file", str(DUMPS / "repo-sessionaffinity-experiment-test-my-nginx-before.txt"), "--all"], 80)
    at = lines.index("Note: no filter table in the input: a Service without endpoints has no nat")
    assert lines[at + 1:at + 3] == ["      rules, only a REJECT in the filter table, so it cannot be listed here",
                                    "      (dump all tables: iptables-save -c)"]


def test_an_externalname_service_in_the_manifest_is_left_out_with_a_note_not_a_failed_audit(tmp_path):
    """kubectl get svc,endpointslices -A -o yaml of a real cluster holds ExternalName Services: the audit
    lists the others and says which were left out, instead of stopping at the first one."""
    from tests.conftest import EXAMPLE

    ext = tmp_path / "ext.yaml"
    ext.write_text("apiVersion: v1\nkind: Service\nmetadata: {name: docs, namespace: default}\n"
                   "spec: {type: ExternalName, externalName: docs.example.com}\n")
    code, out, err = svcpath("--rules-file", str(EXAMPLE / "iptables-save-in-kube-proxy-pod.txt"),
                             "--manifest", str(EXAMPLE / "manifest.yaml"), "--manifest", str(ext), "--all")
    assert code == 0, err
    assert [(r[0], r[1]) for r in _rows(out)] == [("default", "hello-service")]
    assert ("Note: 1 ExternalName Service left out (default/docs): kube-proxy writes no rules for it; "
            "cluster DNS answers with a CNAME") in out.splitlines()
    # the manifest lists the Services: a Service without endpoints is listed although the dump has no
    # filter table, so the dump-only note "it cannot be listed here" would be false
    assert "cannot be listed here" not in out


def test_a_service_whose_path_is_not_in_the_input_is_not_counted_ok():
    # real paste (tests/corpus): `nft list chain ip nat KUBE-NODEPORTS` alone; every KUBE-SVC- chain is elsewhere
    paste = str(Path(__file__).resolve().parents[2] / "corpus" / "aantonov-nft-list-chain-nodeports.txt")
    code, out, _ = svcpath("--rules-file", paste, "--all")
    # (every row's ENDPOINTS is "?": the total is no count of 0)
    assert "5 entries (Services not named in the input), 5 ports, endpoints not in the input: 0 errors, 0 warnings, 0 ok, 5 not in the input" in out.splitlines()
    _, js, _ = svcpath("--rules-file", paste, "--all", "-o", "json")
    assert json.loads(js)["totals"] == {"services": 5, "ports": 5, "endpoints": 0, "error": 0, "warning": 0, "ok": 0, "unknown": 5, "unnamed": 5, "portless": 0, "endpointsNotInInput": 5}


def test_a_health_the_terminal_has_no_room_for_is_left_whole(tmp_path: Path) -> None:
    """Two pods' `nft list table ip kube-proxy` in one paste (--all: a NODE column "pod/kube-proxy-abcde", names of 31
    characters): every droppable column gone, HEALTH began at column 79 and was cut to "…": the row's verdict was lost.
    With too little room for a readable code the rows are left whole to the terminal, as kubectl leaves its rows."""
    require_shared()
    listing = (DUMPS / "repo-k3s-nft-list-table-ip-kube-proxy.txt").read_text()
    paste = tmp_path / "pods.txt"
    paste.write_text("".join(f"$ kubectl -n kube-system exec {pod} -- nft list table ip kube-proxy\n{listing}"
                             for pod in ("kube-proxy-abcde", "kube-proxy-fghij")))
    lines = in_tmux(["--rules-file", str(paste), "--all"], 80)
    assert lines[1].split() == ["pod/kube-proxy-abcde", "riset", "otelcol-opentelemetry-collector", "0", "error:", "no-endpoints"], lines
    lines = in_tmux(["--example", "--all"], 80)  # (room for a readable code: the codes that fit whole, and how many more)
    assert lines[1].endswith("1          warning: hidden-mark-match +1 more") and len(lines[1]) <= 80, lines


def test_health_codes_are_cut_at_a_code_not_in_one() -> None:
    """`--example --all` at 80 columns read 'warning: hidden-mark-match,hidden-port-mat…': the second code cut one
    character short, a name no finding has. The codes that fit are whole, the rest counted; -o wide shows them all.
    A first code that does not fit whole is cut at the edge, as before."""
    from kubectl_svcpath.render.audit import _cut_health

    row = "default    hello-service  1          warning: hidden-mark-match,hidden-port-match"
    assert _cut_health(row, 37, 80) == "default    hello-service  1          warning: hidden-mark-match +1 more"
    assert _cut_health(row, 37, 60) == row[:59] + "…"  # (no code fits whole with its count)
    _, wide, _ = svcpath("--example", "--all", "-o", "wide")
    assert wide.splitlines()[1].endswith("warning: hidden-mark-match,hidden-port-match")


def test_lenient_says_what_the_audit_was_read_without(tmp_path: Path) -> None:
    """`--all --lenient` of a dump cut inside its nat table, a stray line after it: the rows came with no word of the
    line skipped or of the nat table it could not read (one Service's report said both)."""
    require_shared()
    cut = tmp_path / "cut.txt"
    head = (DUMPS / "upstream-iptables-proxier-test-TestOverallIPTablesRules.txt").read_text().splitlines()[:20]
    cut.write_text("\n".join([*head, "garbage line here"]) + "\n")
    code, out, err = svcpath("--all", "--rules-file", str(cut))
    assert code == 8 and "line 21: not an iptables-save line" in err, err
    code, out, err = svcpath("--all", "--rules-file", str(cut), "--lenient")
    assert code == 3, err
    assert (f"Note: {cut}: --lenient skipped line 21: not an iptables-save line: garbage line here; table 'nat' (line 19) "
            "has no COMMIT: the dump is truncated") in out, out


def test_rows_of_no_named_service_are_entries_not_services() -> None:
    """An ipvsadm listing's virtual servers name no Service: TCP and UDP 53 of one address are likely one
    Service's two ports, so they are counted as entries, not as Services."""
    from kubectl_svcpath.render.audit import new_totals, totals_line

    t = new_totals()
    t.update(services=3, ports=3, endpoints=3, ok=3, unnamed=3)
    assert totals_line(t).startswith("3 entries (Services not named in the input), 3 ports, 3 endpoints: ")
    t.update(unnamed=1)
    assert totals_line(t).startswith("2 Services and 1 entry (Service not named in the input), 3 ports, ")
    t.update(unnamed=0)
    assert totals_line(t).startswith("3 Services, 3 ports, ")


def test_json_and_yaml_lines_carry_the_order_and_totals_without_the_table_cells():
    """-o json|yaml writes each report, not its row: its audit line is worked out without the table's cells."""
    from kubectl_svcpath import pipeline
    from kubectl_svcpath.collect import files
    from kubectl_svcpath.dump import Collection
    from kubectl_svcpath.render.audit import audit_line

    collection = Collection(dumps=[files.read_dump(_dump())])
    parsed = pipeline.parse_collection(collection, False)
    for snapshot in pipeline.each_service(parsed):
        report = pipeline.analyse(snapshot, parsed, collection)
        full, light = audit_line(report), audit_line(report, row=False)
        assert light.row == {} and full.row
        assert (light.key, light.ports, light.endpoints, light.bucket, light.unnamed) == \
            (full.key, full.ports, full.endpoints, full.bucket, full.unnamed)


def test_the_endpoints_total_is_a_floor_when_some_rows_say_not_all():
    """A row whose ENDPOINTS is "N+?" or "?" counts only what the input shows: the summary says "seen", and whose
    are not all in the input (it read "N endpoints", a count, where the rows said it is not one)."""
    from kubectl_svcpath.render.audit import new_totals, totals_line

    t = new_totals()
    t.update(services=3, ports=3, endpoints=7, ok=2, unknown=1, endpointsNotInInput=1)
    assert totals_line(t).startswith("3 Services, 3 ports, 7 endpoints seen (those of 1 Service not all in the input): ")
    t.update(services=1, ports=2, endpoints=1, ok=0, unknown=1, endpointsNotInInput=1)
    assert totals_line(t).startswith("1 Service, 2 ports, 1 endpoint seen (not all in the input): ")
    require_shared()  # the seed's rule lines: each port's service chain under a cut, its one jump shown ("1+?")
    code, out, _ = svcpath("--all", "-f", str(SHARED / "examples" / "hello-service" / "pasted-rule-lines.txt"))
    assert code == 0 and "1 Service, 2 ports, 1 endpoint seen (not all in the input): " in out, out


def test_not_in_the_input_is_never_cut_at_80_columns():
    """A grep of an nft listing (tests/corpus) names Services whose paths it shows in part: at 80 columns, with the long
    names the columns that must stay left HEALTH 17 columns and each such row read '?: not in the inp…' (qa9). Where
    the words do not fit, the cell is '?' and one line under the table says what it means; with room, as before."""
    paste = str(Path(__file__).resolve().parents[2] / "corpus" / "k8s132-notes-nft-a-list-table-kube-proxy-elided.txt")
    lines = in_tmux(["--rules-file", paste, "--all"], 80)
    assert all(len(ln) <= 80 for ln in lines) and not any("…" in ln for ln in lines), "\n".join(lines)
    rows = [ln.split() for ln in lines[1:lines.index("")]]
    unknown = sum(r[-1] == "?" for r in rows)
    assert {r[-1] for r in rows} == {"ok", "?"} and unknown >= 4
    assert lines[0].split()[-1] == "HEALTH" and "(HEALTH ?: not in the input)" in lines
    assert lines[lines.index("") + 2].endswith(f" ok, {unknown} not in the input")
    wide = in_tmux(["--rules-file", paste, "--all"], 110)
    assert sum(ln.endswith("  ?: not in the input") for ln in wide) == unknown and "(HEALTH ?: not in the input)" not in wide
