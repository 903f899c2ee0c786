"""A rule on a Service's path holding words the nft reader does not take for statements is said, not passed over.

The reader keeps such words as ``{"unknown": …}`` and reads the rule's other statements; the report said "rules OK"
of a service chain with a line the author typed into the listing, though what that line does to a packet was not
read. (--trace already said "statement unknown is not one the trace follows".)
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import SHARED, require_shared, svcpath

LISTING = "derived-netns-nft-list-table-ip-kube-proxy-from-upstream-TestOverallNFTablesRules.txt"
MASQ = "\t\tip daddr 172.30.0.41 ip saddr != 10.0.0.0/8 jump mark-for-masquerade\n"


def _edited(tmp_path: Path, line: str) -> str:
    require_shared()
    text = (SHARED / "dumps" / LISTING).read_text()
    assert text.count(MASQ) == 1
    f = tmp_path / "edited.txt"
    f.write_text(text.replace(MASQ, MASQ + line))
    return str(f)


def test_a_line_the_reader_cannot_take_is_a_warning_with_its_line(tmp_path: Path) -> None:
    f = _edited(tmp_path, "\t\tthis is junk the author typed\n")
    code, out, err = svcpath("--rules-file", f, "ns1/svc1")
    assert code == 0, err  # (a warning: no error-level finding)
    assert out.splitlines()[0].endswith("WARN: statement-not-read")
    assert ('WARNING  statement-not-read: port p80 80/TCP: 1 rule on its path holds words this reader does not take for '
            'nft statements ("this is junk the author typed" in service-ULMVA6XW-ns1/svc1/tcp/p80)') in out
    code, out, _ = svcpath("--rules-file", f, "ns1/svc1", "-o", "json")
    found = [x for x in __import__("json").loads(out)["findings"] if x["code"] == "statement-not-read"]
    assert len(found) == 1 and found[0]["evidence"] == [f"{f}:148  this is junk the author typed"]


@pytest.mark.parametrize("service", ["ns1/svc1", "ns2/svc2", "ns4/svc4"])
def test_the_listing_as_nft_printed_it_has_no_such_finding(service: str) -> None:
    require_shared()
    code, out, err = svcpath("--rules-file", str(SHARED / "dumps" / LISTING), service, "-o", "json")
    assert "statement-not-read" not in out, err
