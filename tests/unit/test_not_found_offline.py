"""Offline, a Service the input does not hold: the hint names the Services it does hold, the closest to the
name typed first, never `kubectl get svc` (no cluster is involved: a file, or the bundled example)."""

from __future__ import annotations

from pathlib import Path

from kubectl_svcpath.held import closest_first
from tests.conftest import DUMPS, EXAMPLE, svcpath

SAVE = str(DUMPS / "upstream-iptables-proxier-test-TestOverallIPTablesRules.txt")
NFT = str(DUMPS / "upstream-nftables-proxier-test-TestOverallNFTablesRules.txt")
IPVS = str(DUMPS / "upstream-ipvs-readme-ipvsadm-ln.txt")
L_NAT = str(DUMPS / "derived-netns-iptables-L-n-v-x-nat-from-upstream-TestOverallIPTablesRules.txt")
EXAMPLE_RULES = str(next(EXAMPLE.glob("*.txt")))


def test_the_bundled_example_names_its_one_service() -> None:
    """`--example nosuch` said "kubectl get svc -A | grep NAME finds it": the example is offline."""
    assert svcpath("--example", "nosuch") == (4, "", 'error: service "nosuch" not found\n'
                                                       "hint: the bundled example holds 1 Service: default/hello-service\n")
    code, _, err = svcpath("--example", "-n", "kube-system", "hello-service")
    assert code == 4 and err.splitlines()[1] == "hint: the bundled example holds 1 Service: default/hello-service"


def test_a_dump_names_a_few_of_its_services_the_closest_first() -> None:
    code, _, err = svcpath("--rules-file", SAVE, "-n", "ns1", "svc2")
    assert (code, err.splitlines()) == (4, [
        'error: service "svc2" in namespace "ns1" not found in the rules',
        "hint: the dump holds 6 Services: ns2/svc2, ns1/svc1, ns3/svc3 and 3 more (--all lists them); kube-proxy "
        "writes no rules for headless or ExternalName Services"])
    for dump in (NFT, L_NAT):
        _, _, err = svcpath("--rules-file", dump, "svc-5")
        assert "Services: ns5/svc5, " in err and "kubectl get" not in err, err
    # no filter table: why a Service without endpoints is missing is still said
    assert "(REJECT) in the filter table, which the input lacks: pass it too" in err


def test_ipvs_entries_are_offered_as_all_labels_them() -> None:
    """ipvsadm names no Service: the entries can be asked for by the label --all prints."""
    code, _, err = svcpath("--rules-file", IPVS, "kube-dns")
    assert code == 4 and ("hint: the dump names no Service, only addresses: ask for one as --all lists it "
                          "('TCP 10.0.0.10:53', 'TCP 10.0.0.1:443' and 'UDP 10.0.0.10:53')") in err


def test_a_manifest_names_its_services(tmp_path: Path) -> None:
    manifest = tmp_path / "svc.yaml"
    manifest.write_text("apiVersion: v1\nkind: List\nitems:\n" + "".join(
        f"- {{apiVersion: v1, kind: Service, metadata: {{name: {n}, namespace: shop}}, spec: {{type: ClusterIP}}}}\n"
        for n in ("web", "api", "db", "cache", "webhook")))
    code, _, err = svcpath("--rules-file", EXAMPLE_RULES, "--manifest", str(manifest), "webhok")
    assert (code, err.splitlines()[1]) == (4, f"hint: {manifest} holds 5 Services: shop/webhook, shop/web, shop/api and 2 more")


def test_closest_first() -> None:
    names = ["default/kubernetes", "default/hello-service", "shop/hello-service", "kube-system/kube-dns"]
    assert closest_first("hello-servce", names) == ["default/hello-service", "shop/hello-service",
                                                    "default/kubernetes", "kube-system/kube-dns"]
    assert closest_first("nosuch", names) == sorted(names)


def test_the_example_with_another_namespace_looks_for_its_service_there() -> None:
    """`--example -n other` said 'the service "default/hello-service" names namespace "default" but -n says "other"': a
    Service the user never named. -n is where to look, as for a NAME: not there."""
    assert svcpath("--example", "-n", "other") == (4, "", 'error: service "hello-service" not found in namespace "other"\n'
                                                          "hint: the bundled example holds 1 Service: default/hello-service\n")
    code, out, _ = svcpath("--example", "-n", "default")
    assert code == 0 and "Service:  default/hello-service" in out


def test_all_of_a_namespace_the_input_lacks_says_which_namespace() -> None:
    """`--all -n other` offline said "No Service in the input." of an input that holds Services (of other namespaces)."""
    for args in (["--example"], ["--rules-file", SAVE]):
        code, out, err = svcpath(*args, "--all", "-n", "other")
        assert code == 0 and err == "", err
        assert out.splitlines()[0] == "No Service of namespace other in the input.", out
        assert out.splitlines()[-1] == "Note: without -n, --all lists the Services of every namespace the input holds", out
    code, out, _ = svcpath("--rules-file", SAVE, "--all", "-n", "ns1")
    assert "Note: without -n" not in out and out.splitlines()[1].split()[:2] == ["ns1", "svc1"], out
