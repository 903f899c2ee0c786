"""--trace on a diff of two iptables-save dumps (tests/corpus/praqma-gke12-diff-iptables-save-before-after-pods: GKE
1.2, two LoadBalancer Services created between the dumps). The diff shows nat OUTPUT's declaration (its counters
changed) but none of its rules (they did not change), so the trace ran OUTPUT as shown: no jump to KUBE-SERVICES, and
its branches ended 'not a Service address' or unknown, for the cluster IP that the diff's KUBE-SERVICES rule names.
kube-proxy puts its jump to KUBE-SERVICES first in nat OUTPUT and PREROUTING; a chain shown in part without it does not
prove it absent. Now the trace enters KUBE-SERVICES as kube-proxy hooks it, says so, and reaches the endpoint."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import svcpath

PASTE = str(Path(__file__).resolve().parents[2] / "corpus" / "praqma-gke12-diff-iptables-save-before-after-pods.txt")


def test_a_hook_chain_shown_in_part_is_entered_as_kube_proxy_hooks_it() -> None:
    code, out, err = svcpath("default/nginx", "--rules-file", PASTE, "--trace", "node", "--node-ip", "10.240.0.5",
                             "--to", "10.83.252.224:80")
    assert code == 0, err
    flat = " ".join(out.split())
    assert "not a Service address" not in flat and "not-a-service" not in flat, out
    assert ("nat OUTPUT is in the input in part, without kube-proxy's jump to KUBE-SERVICES: entered it the way "
            "kube-proxy hooks it from OUTPUT, before the rules shown") in flat, out
    # (the service chain is new in the later dump, so whole: no endpoint jump not shown; POSTROUTING, shown in part, forks)
    assert "Verdict: depends: delivered in 1 branch, unknown in 1 branch" in flat, out
    assert "2 delivered 10.80.0.7:80 ? no" in flat, out


def test_a_whole_hook_chain_without_the_jump_still_says_so(tmp_path: Path) -> None:
    dump = tmp_path / "whole.txt"
    dump.write_text("\n".join([
        "*nat", ":PREROUTING ACCEPT [0:0]", ":OUTPUT ACCEPT [0:0]", ":POSTROUTING ACCEPT [0:0]", ":KUBE-SERVICES - [0:0]",
        ":KUBE-SVC-NPX46M4PTMTKRN6Y - [0:0]", ":KUBE-SEP-WAUCGDKZ7FS22SOS - [0:0]",
        '-A KUBE-SERVICES -d 10.96.0.1/32 -p tcp -m comment --comment "default/kubernetes:https cluster IP" -m tcp '
        "--dport 443 -j KUBE-SVC-NPX46M4PTMTKRN6Y",
        '-A KUBE-SVC-NPX46M4PTMTKRN6Y -m comment --comment "default/kubernetes:https" -j KUBE-SEP-WAUCGDKZ7FS22SOS',
        '-A KUBE-SEP-WAUCGDKZ7FS22SOS -p tcp -m comment --comment "default/kubernetes:https" -m tcp -j DNAT '
        "--to-destination 192.168.1.10:6443", "COMMIT", ""]))
    code, out, err = svcpath("default/kubernetes", "--rules-file", str(dump), "--trace", "node", "--node-ip", "10.0.0.5")
    assert code == 0, err
    assert "nat OUTPUT does not jump to KUBE-SERVICES" in " ".join(out.split()), out
    assert "in the input in part" not in out, out
