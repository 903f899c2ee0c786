"""`ipvsadm -l` without -n: ports by their service names, real servers by their host names.

A course walk in tests/corpus (hfrog-minikube-*) ran `docker run … mariusv/ipvsadm -l`: `TCP  10.96.0.1:https rr`,
`-> control-plane.minikube.inter Masq 1 0 0` (ipvsadm cuts "name:port" to 28 characters: the port is gone). It was
refused at line 5 although every virtual server is there. Now the names are read as /etc/services' numbers, said in a
note, and the real server printed by a host name is an endpoint whose address and port are not in the input.
"""

from __future__ import annotations

import json

from tests.conftest import ROOT, svcpath

CORPUS = ROOT / "tests" / "corpus"
LISTING = str(CORPUS / "hfrog-minikube-ipvsadm-l-resolved-names.txt")
IPSET = str(CORPUS / "hfrog-minikube-ipset-list-numeric-proto-cut.txt")


def test_a_listing_without_n_is_read_with_a_note() -> None:
    code, out, err = svcpath("--rules-file", LISTING, "--rules-file", IPSET, "--all")
    assert code == 0, err
    for entry in ("10.96.0.1", "10.96.0.10", "10.108.65.32"):
        assert entry in out
    assert "53/UDP" in out and " 443 " in out and " 80 " in out
    assert ("a listing without -n (ipvsadm -l): ports printed by their service names were read as the numbers "
            "/etc/services gives them (domain 53, http 80, https 443)") in out
    assert "'control-plane.minikube.inter' (line 6) is printed by a host name" in out


def test_a_real_server_printed_by_a_cut_host_name_is_no_address() -> None:
    code, out, err = svcpath("TCP 10.96.0.1:443", "--rules-file", LISTING, "-o", "json")
    assert code == 0, err
    report = json.loads(out)
    (path,) = report["ports"][0]["paths"]
    assert (path["address"], path["port"]) == ("10.96.0.1", 443)
    (endpoint,) = path["endpoints"]
    assert (endpoint["ip"], endpoint["port"], endpoint["weight"]) == (None, None, 1)
    # the other virtual servers' real servers are addresses: read as they are, ports by name too
    code, out, _ = svcpath("UDP 10.96.0.10:53", "--rules-file", LISTING, "-o", "json")
    (path,) = json.loads(out)["ports"][0]["paths"]
    assert [(e["ip"], e["port"]) for e in path["endpoints"]] == [("10.244.0.41", 53)]


def test_trace_says_the_host_name_and_no_port_it_does_not_know() -> None:
    code, out, err = svcpath("10.96.0.1:443", "--rules-file", LISTING, "--trace", "10.244.0.5")
    assert code == 0, err
    assert "real server control-plane.minikube.inter (a host name: address not in the input) weight 1" in out
    assert "?:443" not in out and ":None" not in out  # the packet's own port is no stand-in for the cut one


def test_an_unknown_service_name_is_refused_clearly() -> None:
    text = "IP Virtual Server version 1.2.1 (size=4096)\nProt LocalAddress:Port Scheduler Flags\n" \
           "  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn\nTCP  10.96.0.1:nosuchsvc rr\n"
    from tests.conftest import run_cli

    result = run_cli("--rules-file", "-", "--all", stdin=text)
    assert result.returncode == 8
    assert "has a service name ('nosuchsvc') this reader does not know" in result.stderr
    assert "ipvsadm -Ln" in result.stderr and "Traceback" not in result.stderr


def test_a_virtual_server_cut_to_its_host_name_says_so() -> None:
    # tigera-cs/Calico-Foundation's `ipvsadm -l | grep -A3 …` of an EC2 node: 'TCP  ip-10-49-120-28.eu-west-1.co rr', the
    # name cut to 28 characters with its port; it was 'not a rule dump this tool can read' (no ':' on the line)
    paste = str(CORPUS / "tigera-aws-calico-ipvsadm-l-grep-cut-host-names.txt")
    for args in (("--all",), ("TCP 10.49.120.28:80",)):
        code, out, err = svcpath("--rules-file", paste, *args)
        assert code == 8, (out, err)
        assert "not a rule dump this tool can read" not in err
        assert ("line 1: virtual server 'ip-10-49-120-28.eu-west-1.co' is printed by a host name (ipvsadm -l without "
                "-n), cut to 28 characters with its port: its address and port are not in the input") in err
        assert "ipvsadm -Ln" in err and "Traceback" not in err
