"""An `ipvsadm --list -n` copied without its line breaks (tests/corpus/dkspace-minikube-ipvsadm-list-n-joined-lines):
"TCP  10.96.0.1:443 rr  -> 10.0.0.2:8443   Masq 1 2 0", two real servers on one line. Each joined real server was
read as the virtual server's flags, and the listing is whole: five virtual servers were "error: no-endpoints".
Now a line is split before each "->" (ipvsadm starts only a real server line with it), said in a note."""

from __future__ import annotations

import json

from tests.conftest import ROOT, svcpath

PASTE = str(ROOT / "tests" / "corpus" / "dkspace-minikube-ipvsadm-list-n-joined-lines.txt")


def test_no_virtual_server_is_said_to_have_no_endpoints() -> None:
    code, out, err = svcpath("--rules-file", PASTE, "--all")
    assert code == 0, err
    assert "no-endpoints" not in out and "0 errors" in out
    assert "6 entries (Services not named in the input), 6 ports, 8 endpoints" in out
    assert ("lines 2, 3, 4, 5, 6, 7, 8, 9 hold several listing lines each (the line breaks were lost when it was "
            "copied): read as split before each '->'") in out


def test_each_joined_real_server_is_its_own() -> None:
    code, out, err = svcpath("TCP 10.111.205.14:80", "--rules-file", PASTE, "-o", "json")
    assert code == 0, err
    (path,) = json.loads(out)["ports"][0]["paths"]
    assert [(e["ip"], e["port"], e["weight"]) for e in path["endpoints"]] == [
        ("10.244.0.4", 8000, 1), ("10.244.0.5", 8000, 1), ("10.244.0.6", 8000, 1)]
    code, out, _ = svcpath("TCP 10.96.0.1:443", "--rules-file", PASTE, "-o", "json")
    (path,) = json.loads(out)["ports"][0]["paths"]
    assert [(e["ip"], e["port"], e["activeConns"]) for e in path["endpoints"]] == [("10.0.0.2", 8443, 2)]
