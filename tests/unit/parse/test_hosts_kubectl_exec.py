"""Several kube-proxy pods' output in one paste, each under the `kubectl exec` that printed it (parse/hosts.py). Was read
as one node's rules: one cluster IP with two paths (3 and 7 packets) and each endpoint's counters summed (10), a
confident report of a node that does not exist. Each pod's lines are now its own report, named by the pod (the paste
does not say which node a pod is on: the report says "node unknown", "read in pod …"), and --node POD reads one.

No public paste of two pods' `kubectl exec` output was found (issues and pages corpora, and the code index: kube-proxy
exec iptables-save, ipvsadm, for-loops over pods; the pastes found show one pod's shell or a command without its output);
the pastes below are written as kubectl prints them: the prompt and command, kubectl's own stderr lines as public notes
quote them (its deprecation warning for `exec POD CMD` without `--`; "Unable to use a TTY - input is not a terminal or
the right kind of file" when -t has no terminal on stdin), the pod's lines ending in "\r\n" under -t (a terminal's),
then what the pod printed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import svcpath
from tests.unit.parse.test_hosts import GREP, _counted, _paste

PODS = ("kube-proxy-abcde", "kube-proxy-fghij")


def _reports(out: str) -> dict[str | None, int]:
    """kube-proxy pod -> the packets of its one path (-o json of several reports: a list)."""
    doc = json.loads(out)
    items = doc["items"] if "items" in doc else [doc]
    assert all(item["node"] is None for item in items), out  # (a pod's node: not in the paste)
    return {item["kubeProxyPod"]: item["ports"][0]["paths"][0]["packets"] for item in items}


@pytest.mark.parametrize("command", [
    "$ kubectl -n kube-system exec {} -- iptables-save -c | grep kubernetes",
    "$ kubectl exec -n kube-system -it {} -- sh -c 'iptables-save -c | grep kubernetes'",
    "user@bastion:~$ kubectl --context prod exec {} -n kube-system -c kube-proxy -- iptables-save -c | grep kubernetes",
    "$ kubectl -n kube-system exec pod/{} -- iptables-save -c | grep kubernetes",
    "$ k exec -n kube-system {} -- iptables-save -c | grep kubernetes",
])
def test_each_pod_gets_its_own_report(tmp_path: Path, command: str) -> None:
    end = "\r" if " -it " in command else ""  # (-t: the pod's output comes through a terminal, each line ending "\r\n")
    lines = [command.format(PODS[0]), *(r + end for r in _counted("node1")), command.format(PODS[1]),
             *(r + end for r in _counted("node2"))]
    paste = _paste(tmp_path, lines)
    code, out, err = svcpath("default/kubernetes", "--rules-file", paste, "-o", "json")
    assert code == 0, err
    assert _reports(out) == {PODS[0]: 3, PODS[1]: 7}, out  # (not 10 in one chain, nor two paths of one cluster IP)
    code, out, err = svcpath("default/kubernetes", "--rules-file", paste)
    assert code == 0, err
    assert f"=== pod/{PODS[0]} ===" in out and f"=== pod/{PODS[1]} ===" in out, out
    assert "Rules:    iptables mode, node unknown (offline), read in pod kube-proxy-abcde" in out, out
    assert ("holds the rules of 2 pods (kube-proxy-abcde and kube-proxy-fghij, told apart by the kubectl exec commands "
            "that printed them): this report is kube-proxy-abcde's (its lines 1-4); --node kube-proxy-abcde reads it alone") in out, out
    assert "=== node" not in out, out
    code, out, err = svcpath("--all", "--rules-file", paste)
    assert code == 0, err
    rows = [row.split()[:3] for row in out.splitlines()[:3]]
    assert rows == [["NODE", "NAMESPACE", "NAME"], [f"pod/{PODS[0]}", "default", "kubernetes"],
                    [f"pod/{PODS[1]}", "default", "kubernetes"]], out
    assert "each pod's Services are its own rows (NODE: the pod; which node it runs on, the paste does not say)" in out, out


def test_node_reads_one_pod(tmp_path: Path) -> None:
    cmd = "$ kubectl -n kube-system exec {} -- iptables-save -c | grep kubernetes"
    paste = _paste(tmp_path, [cmd.format(PODS[0]), *_counted("node1"), cmd.format(PODS[1]), *_counted("node2")])
    code, out, err = svcpath("default/kubernetes", "--rules-file", paste, "--node", PODS[1], "-o", "json")
    assert code == 0, err
    assert _reports(out) == {PODS[1]: 7}, out
    code, out, err = svcpath("default/kubernetes", "--rules-file", paste, "--trace", "10.0.0.5")
    assert code == 2 and "--trace reads one node's rules, and" in err and "--node kube-proxy-abcde" in err, err
    code, out, err = svcpath("default/kubernetes", "--rules-file", paste, "--trace", "10.0.0.5", "--node", PODS[0])
    assert code == 0 and "delivered to 10.128.0.2:6443" in out, err


def test_the_same_rules_in_two_pods_are_two_pods_rules(tmp_path: Path) -> None:
    """`iptables-save | grep` without counters: both pods print the very same lines (read as one text, the second pod's
    were taken for a repeat of the first's and left out)."""
    cmd = "$ kubectl -n kube-system exec {} -- iptables-save | grep kubernetes"
    paste = _paste(tmp_path, [cmd.format(PODS[0]), *GREP, cmd.format(PODS[1]), *GREP])
    code, out, err = svcpath("--all", "--rules-file", paste)
    assert code == 0, err
    assert [row.split()[0] for row in out.splitlines()[1:3]] == [f"pod/{p}" for p in PODS], out


def test_kubectls_own_lines_are_no_rules(tmp_path: Path) -> None:
    """`kubectl exec -it POD CMD` under a pipe: kubectl's deprecation warning and its "Unable to use a TTY" line were
    "not an iptables-save line" (exit 8)."""
    lines = ["root@cp:~# kubectl exec -it kube-proxy-abcde -n kube-system iptables-save -c | grep kubernetes",
             "kubectl exec [POD] [COMMAND] is DEPRECATED and will be removed in a future version. Use kubectl exec [POD] -- [COMMAND] instead.",
             "Unable to use a TTY - input is not a terminal or the right kind of file", *_counted("node1"),
             "root@cp:~# kubectl exec -it kube-proxy-fghij -n kube-system iptables-save -c | grep kubernetes",
             "Unable to use a TTY - input is not a terminal or the right kind of file", *_counted("node2"), "root@cp:~# "]
    code, out, err = svcpath("default/kubernetes", "--rules-file", _paste(tmp_path, lines), "-o", "json")
    assert code == 0, err
    assert _reports(out) == {PODS[0]: 3, PODS[1]: 7}, out


@pytest.mark.parametrize("command", [
    "$ kubectl -n kube-system exec kube-proxy-abcde -- iptables-save -c | grep kubernetes; "
    "kubectl -n kube-system exec kube-proxy-fghij -- iptables-save -c | grep kubernetes",
    "$ for p in $(kubectl -n kube-system get pods -l k8s-app=kube-proxy -o name); do kubectl -n kube-system exec $p -- "
    "iptables-save -c | grep kubernetes; done",
])
def test_one_command_line_over_several_pods_is_refused(tmp_path: Path, command: str) -> None:
    """Two pods' output one after the other, nothing saying where the second starts: was one node's rules (10 packets)."""
    code, out, err = svcpath("default/kubernetes", "--rules-file", _paste(tmp_path, [command, *_counted("node1"), *_counted("node2")]))
    assert code == 8 and out == "", out
    first, hint = err.splitlines()[:2]
    assert "paste.txt line 1: `" in first and "one after the other, and its output does not say which lines are whose" in first, err
    assert "kube-proxy-abcde and kube-proxy-fghij" in first or "each pod of `$(kubectl -n kube-system get pods" in first, err
    assert hint == ("hint: paste one pod's output per file, or let each pod's lines say whose they are (one `kubectl exec` per "
                    "pod, each under its own prompt, or echo each pod's name before its output; --node POD then reads one)"), err


def test_a_loop_that_echoes_each_pod_is_split(tmp_path: Path) -> None:
    """`echo "== $p"` over `kubectl get pods -o name`: each pod's output under its name (pod/NAME), though the loop's
    list is no words of its own."""
    loop = ('$ for p in $(kubectl -n kube-system get pods -l k8s-app=kube-proxy -o name); do echo "== $p"; '
            "kubectl -n kube-system exec $p -- iptables-save -c | grep kubernetes; done")
    lines = [loop, f"== pod/{PODS[0]}", *_counted("node1"), f"== pod/{PODS[1]}", *_counted("node2")]
    code, out, err = svcpath("default/kubernetes", "--rules-file", _paste(tmp_path, lines), "-o", "json")
    assert code == 0, err
    assert _reports(out) == {PODS[0]: 3, PODS[1]: 7}, out


def test_pods_that_disagree(tmp_path: Path) -> None:
    """Two pods sending the port to different endpoints: the node-drift finding names the pods, not nodes."""
    cmd = "$ kubectl -n kube-system exec {} -- iptables-save -c | grep kubernetes"
    other = [rule.replace("10.128.0.2", "10.128.0.9").replace("XD66YDEGQEOQLZXE", "ABCDEFGHIJKLMNOP") for rule in GREP]
    paste = _paste(tmp_path, [cmd.format(PODS[0]), *GREP, cmd.format(PODS[1]), *other])
    code, out, err = svcpath("default/kubernetes", "--rules-file", paste)
    assert code == 3, err
    assert "Across pods:" in out and ("node-drift: port https 443/TCP: hosts pod/kube-proxy-abcde, pod/kube-proxy-fghij disagree with "
                                      "the other hosts") in out, out
    assert "kube-proxy in pod/kube-proxy-abcde, pod/kube-proxy-fghij is out of sync" in out, out


def test_one_pods_output_names_the_pod(tmp_path: Path) -> None:
    """A single `kubectl exec` paste: its report said "node unknown (offline)" and nothing of the pod the paste shows."""
    paste = _paste(tmp_path, ["$ kubectl -n kube-system exec kube-proxy-abcde -- iptables-save -c | grep kubernetes",
                              *_counted("node1")])
    code, out, err = svcpath("default/kubernetes", "--rules-file", paste)
    assert code == 0 and "Rules:    iptables mode, node unknown (offline), read in pod kube-proxy-abcde\n" in out, out
    code, out, err = svcpath("default/kubernetes", "--rules-file", paste, "--node", "worker-1", "-o", "json")
    assert code == 0 and (json.loads(out)["node"], json.loads(out)["kubeProxyPod"]) == ("worker-1", "kube-proxy-abcde"), out
    code, out, err = svcpath("default/kubernetes", "--rules-file", paste, "--node", "kube-proxy-abcde", "-o", "json")
    assert code == 0 and _reports(out) == {"kube-proxy-abcde": 3}, out


def test_the_tree_names_the_pod_too(tmp_path: Path) -> None:
    cmd = "$ kubectl -n kube-system exec {} -- iptables-save -c | grep kubernetes"
    paste = _paste(tmp_path, [cmd.format(PODS[0]), *_counted("node1"), cmd.format(PODS[1]), *_counted("node2")])
    code, out, err = svcpath("default/kubernetes", "--rules-file", paste, "-o", "tree")
    assert code == 0, err
    assert "default/kubernetes (?, 10.96.0.1) — iptables, offline, read in pod kube-proxy-fghij" in out, out


def test_a_pod_whose_output_went_to_a_file_printed_nothing_here(tmp_path: Path) -> None:
    """Two kubectl exec on one line, the first written to a file: the lines under it are the second pod's alone."""
    line = ("$ kubectl -n kube-system exec kube-proxy-abcde -- iptables-save -c > a.txt; "
            "kubectl -n kube-system exec kube-proxy-fghij -- iptables-save -c | grep kubernetes")
    code, out, err = svcpath("default/kubernetes", "--rules-file", _paste(tmp_path, [line, *_counted("node2")]), "-o", "json")
    assert code == 0, err
    assert _reports(out) == {PODS[1]: 7}, out


def test_a_service_one_pod_lacks_is_said_of_that_pod(tmp_path: Path) -> None:
    cmd = "$ kubectl -n kube-system exec {} -- iptables-save | grep -e kubernetes -e web"
    other = [rule.replace("default/kubernetes:https", "default/web:http") for rule in GREP]
    code, out, err = svcpath("default/kubernetes", "--rules-file",
                             _paste(tmp_path, [cmd.format(PODS[0]), *GREP, cmd.format(PODS[1]), *other]))
    assert code == 0, err
    assert out.startswith("https 443/TCP →") and "=== " not in out, out  # (one report: the pod that holds it)
    assert 'pod/kube-proxy-fghij: service "kubernetes" in namespace "default" not found in the rules' in out, out


def test_kubectl_debug_node_names_the_node(tmp_path: Path) -> None:
    """`kubectl debug node/NODE -- iptables-save` runs in the node's network namespace: its output is that node's rules,
    and the paste names the node. Two of them were read as one node's; kubectl's own lines (quoted verbatim as the
    Kubernetes docs and public notes show them) were "not an iptables-save line"."""
    lines = ["$ kubectl debug node/worker-1 -it --image=nicolaka/netshoot -- iptables-save -c | grep kubernetes",
             '--profile=legacy is deprecated and will be removed in the future. It is recommended to explicitly specify a '
             'profile, for example "--profile=general".',
             "Creating debugging pod node-debugger-worker-1-b62wp with container debugger on node worker-1.",
             *_counted("node1"),
             "$ kubectl debug node/worker-2 -it --profile=sysadmin --image nicolaka/netshoot -- iptables-save -c | grep kubernetes",
             "Creating debugging pod node-debugger-worker-2-4xp2m with container debugger on node worker-2.",
             "If you don't see a command prompt, try pressing enter.", *_counted("node2")]
    code, out, err = svcpath("default/kubernetes", "--rules-file", _paste(tmp_path, lines), "-o", "json")
    assert code == 0, err
    assert {item["node"]: item["ports"][0]["paths"][0]["packets"] for item in json.loads(out)["items"]} == \
        {"worker-1": 3, "worker-2": 7}, out
