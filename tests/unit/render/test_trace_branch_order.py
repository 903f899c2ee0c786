"""--trace says in what order its branches come: the largest share of new connections first (trace.state.ordered),
equal or unknown shares in endpoint address order, branches under a condition after the others.

kube-proxy writes a service chain's jumps in its sort of the endpoints' addresses, each with an equal share, so the
rules' order tells a reader nothing; where shares differ (IPVS weights, a hand-edited or stale probability) the
largest is what one looks for at 3 a.m. The order was already so, but said nowhere: BRANCH 1, 2, … read as the
rules' order. JSON keeps its order and fields (docs/json-contract.md says it).
"""

from __future__ import annotations

import json
from pathlib import Path

from kubectl_svcpath import kubeproxy
from tests.conftest import svcpath

SPN = kubeproxy.service_port_name("default", "web", "http")
SVC = kubeproxy.service_chains(SPN, "TCP")["svc"]
EPS = ["10.244.1.5", "10.244.2.7"]
SEPS = [kubeproxy.endpoint_chain(SPN, "TCP", ip, 8080) for ip in EPS]
ORDER = "(branches by share of new connections, largest first; equal or unknown shares by address)"


def _dump(first_probability: str, affinity: bool = False) -> str:
    recent = [f'-A {SVC} -m comment --comment "default/web:http -> {ip}:8080" -m recent --name {sep} --rcheck --seconds '
              f"10800 --reap -j {sep}" for ip, sep in zip(EPS, SEPS, strict=True)] if affinity else []
    lines = ["*nat", ":KUBE-SERVICES - [0:0]", f":{SVC} - [0:0]", *(f":{s} - [0:0]" for s in SEPS),
             f'-A KUBE-SERVICES -d 10.96.0.50/32 -p tcp -m comment --comment "default/web:http cluster IP" -m tcp --dport 80 -j {SVC}',
             *recent,
             f'-A {SVC} -m comment --comment "default/web:http -> {EPS[0]}:8080" -m statistic --mode random --probability '
             f"{first_probability} -j {SEPS[0]}",
             f'-A {SVC} -m comment --comment "default/web:http -> {EPS[1]}:8080" -j {SEPS[1]}']
    for ip, sep in zip(EPS, SEPS, strict=True):
        set_ = f" -m recent --name {sep} --set" if affinity else ""
        lines.append(f'-A {sep} -p tcp -m comment --comment "default/web:http"{set_} -m tcp -j DNAT --to-destination {ip}:8080')
    return "\n".join([*lines, "COMMIT"]) + "\n"


def _trace(tmp_path: Path, text: str, *fmt: str) -> str:
    f = tmp_path / "dump.txt"
    f.write_text(text)
    code, out, err = svcpath("--rules-file", str(f), "default/web", "--trace", "10.244.0.9", "--to", "10.96.0.50:80",
                             "--node-ip", "192.168.0.2", *fmt)
    assert code == 0, err
    return out


def test_the_largest_share_comes_first_and_the_order_is_said(tmp_path: Path) -> None:
    out = _trace(tmp_path, _dump("0.20000000000"))  # (10.244.1.5's jump first in the rules, with 20%)
    rows = [line.split() for line in out.splitlines() if line.strip().startswith(("1 ", "2 "))]
    assert [(r[0], r[2], r[3]) for r in rows] == [("1", "10.244.2.7:8080", "80%"), ("2", "10.244.1.5:8080", "20%")], out
    flat = " ".join(out.split())
    assert ORDER in flat and "(then those under a condition" not in flat, out
    doc = json.loads(_trace(tmp_path, _dump("0.20000000000"), "-o", "json"))
    assert [(b["endpoint"]["ip"], b["share"]) for b in doc["traces"][0]["branches"]] == [("10.244.2.7", 0.8), ("10.244.1.5", 0.2)]


def test_branches_under_a_condition_are_said_to_come_after(tmp_path: Path) -> None:
    out = _trace(tmp_path, _dump("0.50000000000", affinity=True))
    flat = " ".join(out.split())
    assert ORDER + " (then those under a condition: a returning client, a match the trace cannot decide)" in flat, out


def test_one_row_needs_no_order(tmp_path: Path) -> None:
    code, out, err = svcpath("--example", "--trace", "node", "--to", "10.101.173.15:49191", "--node-ip", "10.0.0.2")
    assert code == 0, err
    rows = [line.split()[:4] for line in out.splitlines() if line.split()[:2] == ["1", "delivered"]]
    assert rows == [["1", "delivered", "192.168.189.15:9191", "100%"]] and "branches by share" not in out, out
