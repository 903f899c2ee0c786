"""Several hosts' greps in one paste (parse/hosts.py): pdsh/clush's "node1: " before each line, ansible's "node1 |
CHANGED | rc=0 >>" headers, two hosts' prompts, a loop's echoed names. Each host's lines are its own node's: each
gets its own report (as for an ipvsadm paste of several nodes, or live --nodes), --node HOST reads one. Before, they
were read as one node's rules: pdsh's and ansible's output refused ("not a rule dump", exit 8), prompts' greps read
together (the same rule twice, each host's counters in one chain), a loop's output doubled. A loop whose output does
not say which lines are whose is refused."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import DUMPS, svcpath

SVC, SEP = "KUBE-SVC-NPX46M4PTMTKRN6Y", "KUBE-SEP-XD66YDEGQEOQLZXE"
GREP = [
    f'-A KUBE-SERVICES -d 10.96.0.1/32 -p tcp -m comment --comment "default/kubernetes:https cluster IP" -m tcp --dport 443 -j {SVC}',
    f'-A {SVC} -m comment --comment "default/kubernetes:https -> 10.128.0.2:6443" -j {SEP}',
    f'-A {SEP} -p tcp -m comment --comment "default/kubernetes:https" -m tcp -j DNAT --to-destination 10.128.0.2:6443',
]
COUNTS = {"node1": "[3:180]", "node2": "[7:420]"}


def _counted(host: str) -> list[str]:
    return [f"{COUNTS[host]} {rule}" for rule in GREP]


def _paste(tmp_path: Path, lines: list[str]) -> str:
    paste = tmp_path / "paste.txt"
    paste.write_text("\n".join(lines) + "\n")
    return str(paste)


PDSH = ["$ pdsh -w node[1-2] 'iptables-save -c | grep kubernetes'"] + [f"{h}: {line}" for h in COUNTS for line in _counted(h)]
PROMPTS = [line for h in COUNTS for line in [f"root@{h}:~# iptables-save -c | grep kubernetes", *_counted(h)]] + ["root@node2:~#"]
ANSIBLE = [line for h in COUNTS for line in [f"{h} | CHANGED | rc=0 >>", *_counted(h)]]


def _reports(out: str) -> dict[str, int]:
    """node -> the packets of its one path (-o json of several nodes: a list of reports)."""
    doc = json.loads(out)
    items = doc["items"] if "items" in doc else [doc]
    return {item["node"]: item["ports"][0]["paths"][0]["packets"] for item in items}


@pytest.mark.parametrize(("lines", "how", "spans"), [
    (PDSH, "pdsh/clush prefixes", ("2-4", "5-7")),
    (PROMPTS, "prompts", ("1-4", "5-9")),
    (ANSIBLE, "ansible/pssh headers", ("1-4", "5-8")),
])
def test_each_host_gets_its_own_report(tmp_path: Path, lines: list[str], how: str, spans: tuple[str, str]) -> None:
    paste = _paste(tmp_path, lines)
    code, out, err = svcpath("default/kubernetes", "--rules-file", paste, "-o", "json")
    assert code == 0, err
    assert _reports(out) == {"node1": 3, "node2": 7}, out  # (not 10 in one chain, nor the rules twice)
    code, out, err = svcpath("default/kubernetes", "--rules-file", paste)
    assert code == 0, err
    assert "=== node node1 ===" in out and "=== node node2 ===" in out, out
    assert (f"holds the rules of 2 hosts (node1 and node2, told apart by {how}): this report is node1's (its lines "
            f"{spans[0]}); --node node1 reads it alone") in out, out
    assert f"this report is node2's (its lines {spans[1]})" in out, out
    code, out, err = svcpath("--all", "--rules-file", paste)
    assert code == 0, err
    assert [row.split()[:3] for row in out.splitlines()[1:3]] == [["node1", "default", "kubernetes"], ["node2", "default", "kubernetes"]], out


def test_node_reads_one_host(tmp_path: Path) -> None:
    paste = _paste(tmp_path, PDSH)
    code, out, err = svcpath("default/kubernetes", "--rules-file", paste, "--node", "node2", "-o", "json")
    assert code == 0, err
    assert _reports(out) == {"node2": 7}, out
    code, out, err = svcpath("default/kubernetes", "--rules-file", paste, "--node", "node2")
    assert "holds the rules of 2 hosts (node1 and node2, told apart by pdsh/clush prefixes): node2's lines (5-7) are " \
           "read, the others' left out" in out, out
    code, out, err = svcpath("default/kubernetes", "--rules-file", paste, "--node", "node3")
    assert code == 8 and out == "", out
    assert err.splitlines()[0].endswith("paste.txt: node node3 is none of the 2 hosts whose rules it holds (node1 and node2)"), err
    assert "--node node1" in err and "Traceback" not in err


def test_trace_wants_one_host(tmp_path: Path) -> None:
    paste = _paste(tmp_path, PROMPTS)
    code, out, err = svcpath("default/kubernetes", "--rules-file", paste, "--trace", "10.0.0.5")
    assert code == 2 and out == "", out
    assert "--trace reads one node's rules, and " in err and "holds the rules of 2 hosts (node1 and node2" in err, err
    code, out, err = svcpath("default/kubernetes", "--rules-file", paste, "--trace", "10.0.0.5", "--node", "node1")
    assert code == 0, err
    assert "on node node1" in out and "delivered to 10.128.0.2:6443" in out, out


def test_a_single_hosts_prefixes_are_taken_off(tmp_path: Path) -> None:
    """`pdsh -w node1 …`: one host's lines, read as any grep (they were refused: "not a rule dump")."""
    paste = _paste(tmp_path, [f"node1: {line}" for line in _counted("node1")])
    code, out, err = svcpath("default/kubernetes", "--rules-file", paste, "-o", "json")
    assert code == 0, err
    assert json.loads(out)["ports"][0]["paths"][0]["packets"] == 3


def test_a_loop_without_host_names_is_refused(tmp_path: Path) -> None:
    """`for n in …; do ssh $n …; done` prints each host's lines one after the other, none saying whose: were read as
    one node's (each rule twice, two paths of one cluster IP)."""
    loop = "$ for n in node1 node2; do ssh $n sudo iptables-save -c | grep kubernetes; done"
    paste = _paste(tmp_path, [loop, *_counted("node1"), *_counted("node2")])
    code, out, err = svcpath("default/kubernetes", "--rules-file", paste)
    assert code == 8 and out == "", out
    first = err.splitlines()[0]
    assert first.endswith("paste.txt line 1: `for n in node1 node2; do ssh $n sudo iptables-save -c | grep kubernetes; done` "
                          "lists the rules of node1 and node2, one after the other, and its output does not say which "
                          "lines are whose"), err
    assert "pdsh -w node1,node2" in err


def test_a_loop_that_echoes_each_host_is_split(tmp_path: Path) -> None:
    loop = 'for n in node1 node2; do echo "== $n"; docker exec $n iptables-save -c | grep kubernetes; done'
    paste = _paste(tmp_path, [loop, "== node1", *_counted("node1"), "== node2", *_counted("node2")])
    code, out, err = svcpath("default/kubernetes", "--rules-file", paste, "-o", "json")
    assert code == 0, err
    assert _reports(out) == {"node1": 3, "node2": 7}, out


def test_a_loop_over_chains_is_no_loop_over_hosts(tmp_path: Path) -> None:
    """`for c in …; do iptables -t nat -S $c; done` on one node: nothing to split."""
    loop = "root@node1:~# for c in KUBE-SERVICES; do iptables-save -c | grep $c; done"
    paste = _paste(tmp_path, [loop, *_counted("node1")])
    code, out, err = svcpath("default/kubernetes", "--rules-file", paste, "-o", "json")
    assert code == 0, err
    assert json.loads(out)["ports"][0]["paths"][0]["packets"] == 3


def test_one_of_several_files_with_several_hosts(tmp_path: Path) -> None:
    """Files read together are one node's: a file of two hosts among them is read for --node, else refused."""
    paste = _paste(tmp_path, PDSH)
    other = tmp_path / "filter.txt"
    other.write_text('-A KUBE-SERVICES -d 10.96.0.9/32 -p tcp -m comment --comment "default/gone:http has no endpoints" '
                     "-m tcp --dport 80 -j REJECT --reject-with icmp-port-unreachable\n")
    code, out, err = svcpath("default/kubernetes", "--rules-file", paste, "--rules-file", str(other))
    assert code == 8 and out == "", out
    assert ("paste.txt: holds the rules of 2 hosts (node1 and node2, told apart by pdsh/clush prefixes), and the files "
            "are read as one node's") in err, err
    code, out, err = svcpath("default/kubernetes", "--rules-file", paste, "--rules-file", str(other), "--node", "node1", "-o", "json")
    assert code == 0, err
    assert _reports(out) == {"node1": 3}, out


def test_a_loop_over_a_list_it_does_not_name(tmp_path: Path) -> None:
    """`for n in $NODES`: refused when its output shows a rule twice (several hosts'), read when it shows each once."""
    loop = "$ for n in $(kubectl get nodes -o name | cut -d/ -f2); do ssh $n iptables-save -c | grep kubernetes; done"
    code, out, err = svcpath("default/kubernetes", "--rules-file", _paste(tmp_path, [loop, *_counted("node1"), *_counted("node2")]))
    assert code == 8 and out == "", out
    assert "lists the rules of each host of `$(kubectl get nodes -o name | cut -d/ -f2)`, one after the other" in err, err
    code, out, err = svcpath("default/kubernetes", "--rules-file", _paste(tmp_path, [loop, *_counted("node1")]), "-o", "json")
    assert code == 0, err
    assert json.loads(out)["ports"][0]["paths"][0]["packets"] == 3


def test_a_failed_hosts_pdsh_lines_are_no_ones(tmp_path: Path) -> None:
    """node3 could not be reached: its error and pdsh's own line are left out of the others' reports."""
    paste = _paste(tmp_path, [*PDSH, "node3: ssh: connect to host node3 port 22: Connection refused",
                              "pdsh@admin: node3: ssh exited with exit code 255"])
    code, out, err = svcpath("default/kubernetes", "--rules-file", paste, "-o", "json")
    assert code == 0, err
    assert _reports(out) == {"node1": 3, "node2": 7}, out


LISTING = """Chain KUBE-SVC-NPX46M4PTMTKRN6Y (1 references)
 pkts bytes target     prot opt in     out     source               destination
{p}  {b} KUBE-SEP-XD66YDEGQEOQLZXE  all  --  *      *       0.0.0.0/0            0.0.0.0/0            /* default/kubernetes:https -> 10.128.0.2:6443 */"""


def test_pdsh_of_an_iptables_listing(tmp_path: Path) -> None:
    """`pdsh -w node[1-2] iptables -t nat -L KUBE-SVC-… -n -v`: each host's chain, its columns where they were."""
    lines = ["$ pdsh -w node[1-2] iptables -t nat -L KUBE-SVC-NPX46M4PTMTKRN6Y -n -v"]
    for host, (p, b) in (("node1", ("    3", "  180")), ("node2", ("    7", "  420"))):
        lines += [f"{host}: {line}" for line in LISTING.format(p=p, b=b).splitlines()]
    code, out, err = svcpath("--all", "--rules-file", _paste(tmp_path, lines))
    assert code == 0, err
    assert "holds the rules of 2 hosts (node1 and node2, told apart by pdsh/clush prefixes)" in out, out
    rows = [row.split() for row in out.splitlines()[1:3]]
    assert [row[0] for row in rows] == ["node1", "node2"], out


def test_pdsh_of_nft_listings(tmp_path: Path) -> None:
    """Each host's part keeps the others' lines blank: the second host's `nft list table ip kube-proxy` behind 270 of
    them was no nft listing to the format's look at the text's start (its first 200 lines: "not a rule dump")."""
    listing = (DUMPS / "repo-k3s-nft-list-table-ip-kube-proxy.txt").read_text()
    lines = [f"n{k}: {line}" for k in (1, 2) for line in listing.splitlines()]
    code, out, err = svcpath("--all", "--rules-file", _paste(tmp_path, lines))
    assert code in (0, 3), err
    assert {row.split()[0] for row in out.splitlines()[1:] if row.startswith("n")} == {"n1", "n2"}, out
    assert "holds the rules of 2 hosts (n1 and n2, told apart by pdsh/clush prefixes)" in out, out


def test_each_hosts_dump_time(tmp_path: Path) -> None:
    """pdsh of two whole `iptables-save -c`: each host's report says when its dump was taken (the second host's
    '# Generated by … on' line, behind the first host's 4,600 lines kept blank, was not looked at)."""
    from tests.lab.kpgen import cluster_services, save_text

    dump = save_text(cluster_services(300, 3), tables=("nat",))
    later = dump.replace("Sun Nov 29 12:00:00 2026", "Sun Nov 29 12:05:00 2026")
    assert later != dump and dump.count("\n") > 4096
    lines = [f"worker-1: {line}" for line in dump.splitlines()] + [f"worker-2: {line}" for line in later.splitlines()]
    code, out, err = svcpath("bench/svc-00042", "--rules-file", _paste(tmp_path, lines))
    assert code == 0, err
    assert "node worker-1, collected 2026-11-29T12:00:00" in out and "node worker-2, collected 2026-11-29T12:05:00" in out, out


def test_since_reads_the_same_host(tmp_path: Path) -> None:
    """--since EARLIER of several hosts: the host --node names, as for the later paste (was read as one node's)."""
    earlier = tmp_path / "earlier.txt"
    earlier.write_text("\n".join(f"{h}: [1:60] {rule}" for h in COUNTS for rule in GREP) + "\n")
    later = _paste(tmp_path, PDSH)
    code, out, err = svcpath("default/kubernetes", "--rules-file", later, "--since", str(earlier))
    assert code == 2 and "--since reads one node's rules" in err, err
    code, out, err = svcpath("default/kubernetes", "--rules-file", later, "--since", str(earlier), "--node", "node2", "-o", "json")
    assert code == 0, err
    entry = json.loads(out)["traffic"]["ports"][0]["entries"][0]
    assert entry["packets"] == 6, entry  # node2: 7 now, 1 before (not 7 - 2: both hosts' earlier counters in one chain)


@pytest.mark.parametrize("header", ["node[1,3]", "node[1,3] (2)"])
def test_dshbak_and_clush_gathered_output(tmp_path: Path, header: str) -> None:
    """`pdsh … | dshbak -c` (clush -b alike): the hosts that printed the same lines share one block under a header of
    dashes; each host's report is its blocks' lines (such output was refused: "not an iptables-save line: -----")."""
    lines = ["$ pdsh -w node[1-3] 'iptables-save -c | grep kubernetes' | dshbak -c", "----------------", header,
             "----------------", *_counted("node1"), "----------------", "node2", "----------------", *_counted("node2")]
    paste = _paste(tmp_path, lines)
    code, out, err = svcpath("default/kubernetes", "--rules-file", paste, "-o", "json")
    assert code == 0, err
    assert _reports(out) == {"node1": 3, "node3": 3, "node2": 7}, out
    code, out, err = svcpath("default/kubernetes", "--rules-file", paste, "--node", "node3")
    assert code == 0, err
    assert "holds the rules of 3 hosts (node1, node3 and node2, told apart by dshbak/clush -b headers): node3's lines (5-7)" in out, out


@pytest.mark.parametrize(("command", "hosts"), [
    ("user@bastion:~$ ssh -i ~/.ssh/k8s -o StrictHostKeyChecking=no {} sudo iptables-save -c | grep kubernetes", ("node1", "node2")),
    ("$ ssh root@{} 'iptables-save -c | grep kubernetes'", ("node1", "node2")),
    ("$ docker exec -it {} iptables-save -c | grep kubernetes", ("kind-worker", "kind-worker2")),
    ("$ minikube ssh -n {} -- sudo iptables-save -c | grep kubernetes", ("minikube", "minikube-m02")),
])
def test_each_command_names_the_host_it_ran_on(tmp_path: Path, command: str, hosts: tuple[str, str]) -> None:
    """The same grep run on two hosts by ssh (docker exec into kind nodes, minikube ssh -n) from one prompt: was read
    as one node's (two paths of one cluster IP, 3 and 7 packets, each endpoint's 3)."""
    lines = [command.format(hosts[0]), *_counted("node1"), command.format(hosts[1]), *_counted("node2")]
    code, out, err = svcpath("default/kubernetes", "--rules-file", _paste(tmp_path, lines), "-o", "json")
    assert code == 0, err
    assert _reports(out) == {hosts[0]: 3, hosts[1]: 7}, out
    code, out, err = svcpath("default/kubernetes", "--rules-file", _paste(tmp_path, lines))
    assert f"holds the rules of 2 hosts ({hosts[0]} and {hosts[1]}, told apart by the hosts its commands ran on (ssh, docker exec …))" in out, out


def test_one_host_by_ssh_is_one_node(tmp_path: Path) -> None:
    lines = ["$ ssh node1 sudo iptables-save -c | grep kubernetes", *_counted("node1"), "$ ssh node1 sudo iptables-save -c | grep kubernetes",
             *_counted("node2")]
    code, out, err = svcpath("default/kubernetes", "--rules-file", _paste(tmp_path, lines), "-o", "json")
    assert code == 0, err
    assert _reports(out) == {None: 7}, out  # (the same host twice: its later run read, as before)


def test_a_short_node_name_is_offered_its_host_not_the_first() -> None:
    """`--node vmss000002` for vijayrod's two AKS nodes (tests/corpus): the hint said "--node
    aks-npuser-11270689-vmss000000", the other node, which a user copying it would read without a word of doubt."""
    from tests.conftest import ROOT

    paste = str(ROOT / "tests" / "corpus" / "vijayrod-aks-grep-two-nodes-local-notes-get-tables.txt")
    code, out, err = svcpath("nginx", "--rules-file", paste, "--node", "vmss000002")
    assert (code, out) == (8, ""), out
    assert err.splitlines()[1] == "hint: did you mean --node aks-npuser-11270689-vmss000002?", err
