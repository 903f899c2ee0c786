"""The --all audit gives each Service the same answer as asking for that Service alone (issue 11).

The audit reads the input once for all Services (whole-input notes worked out once, each
Service's chains read when it is reached and forgotten after); these tests hold it to the
single-Service analysis on every shared dump and on generated nftables tables and IPVS listings
(tests/lab/modes/test_nft_lab.py does the same for `nft -j` of a table loaded into the kernel):
same ports, paths, endpoints, findings, notes.
"""

from __future__ import annotations

import io
import json
from functools import partial
from pathlib import Path
from typing import Any

import pytest

from kubectl_svcpath import pipeline
from kubectl_svcpath.app import Env, gather_and_analyse
from kubectl_svcpath.collect import files
from kubectl_svcpath.dump import Collection
from kubectl_svcpath.options import Options
from tests.conftest import DUMPS, require_shared
from tests.lab.nftgen import NftPort, NftService, generate

DUMP_FILES = sorted(p.name for p in DUMPS.glob("*") if p.is_file() and p.name != "INDEX.md") if DUMPS.is_dir() else []


def _reports(opts: Options) -> list[dict[str, Any]]:
    env = Env(io.StringIO(), io.StringIO())
    return [r.to_dict() for r in gather_and_analyse(opts, env).reports]


@pytest.mark.parametrize("dump", DUMP_FILES)
def test_audit_equals_one_service_at_a_time(dump: str) -> None:
    require_shared()
    path = str(DUMPS / dump)
    audit = _reports(Options(rules_files=[path], all_services=True))
    named = [doc for doc in audit if doc["service"]["name"]]
    assert audit, f"the audit of {dump} listed no Service"
    if not named:  # (an ipvsadm listing names no Service: there is no single-Service run to compare with)
        pytest.skip(f"{dump} names no Service")
    for doc in named:
        ref = f'{doc["service"]["namespace"]}/{doc["service"]["name"]}'
        alone = _reports(Options(service=ref, rules_files=[path]))
        assert len(alone) == 1
        assert alone[0] == doc, f"{dump}: {ref} differs between --all and a single-Service run"


def assert_audit_equals_single(path: str) -> int:
    """Every named Service of the --all audit of ``path`` equals its single-Service run; how many."""
    audit = _reports(Options(rules_files=[path], all_services=True))
    assert audit, f"the audit of {path} listed no Service"
    for doc in audit:
        ref = f'{doc["service"]["namespace"]}/{doc["service"]["name"]}'
        alone = _reports(Options(service=ref, rules_files=[path]))
        assert alone == [doc], f"{path}: {ref} differs between --all and a single-Service run"
    return len(audit)


def varied_services(n: int) -> list[NftService]:
    """kube-proxy's Service shapes in turn: endpoints or none, Local policies, affinity, external and
    load-balancer IPs with source ranges, node ports, two ports."""
    out = []
    for i in range(n):
        eps = [f"10.244.{i}.{j + 2}" for j in range(i % 4)]
        ports = [NftPort("http", 80, 8080, node_port=30000 + i if i % 3 == 0 else None)]
        if i % 5 == 1:
            ports.append(NftPort("dns", 53, 5353, protocol="UDP"))
        out.append(NftService(
            f"ns{i % 3}", f"svc{i}", f"10.96.{i // 200}.{i % 200 + 10}", ports, eps,
            local_endpoints=eps[:1] if i % 6 == 2 else None,
            external_ips=[f"192.0.2.{i + 1}"] if i % 7 == 3 else [],
            lb_ips=[f"198.51.100.{i + 1}"] if i % 8 == 4 else [],
            source_ranges=["203.0.113.0/24"] if i % 16 == 4 else [],
            etp_local=i % 6 == 2, itp_local=i % 9 == 5, affinity_seconds=10800 if i % 10 == 7 else None))
    return out


def test_audit_equals_one_service_at_a_time_generated_nft_text(tmp_path) -> None:
    dump = tmp_path / "kube-proxy.nft"
    services = varied_services(36)
    dump.write_text(generate(services, node_ips=["172.18.0.2"]))
    assert assert_audit_equals_single(str(dump)) == len(services)


def ipvsadm_listing(n: int) -> str:
    """``ipvsadm -Ln`` of n Services: a cluster IP each, every third a node port on two node addresses
    and loopback, every fourth with ClientIP affinity, every fifth without real servers."""
    lines = ["IP Virtual Server version 1.2.1 (size=4096)", "Prot LocalAddress:Port Scheduler Flags",
             "  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn"]
    for i in range(n):
        reals = [f"10.244.{i}.{j + 2}:8080" for j in range(0 if i % 5 == 4 else 1 + i % 3)]
        addrs = [f"10.96.{i // 200}.{i % 200 + 10}:80"]
        if i % 3 == 0:
            addrs += [f"{a}:{30000 + i}" for a in ("172.18.0.2", "10.0.2.15", "127.0.0.1")]
        flags = " persistent 10800" if i % 4 == 1 else ""
        for addr in addrs:
            lines.append(f"TCP  {addr} rr{flags}")
            lines += [f"  -> {r:<28} Masq    {1 if j else 0 if i % 7 == 6 else 1}      0          0" for j, r in enumerate(reals)]
    return "\n".join(lines) + "\n"


def _alone(paths: list[str]) -> list[dict[str, Any]]:
    """Each Service the input describes (the dump-only list), analysed alone against a fresh parse."""
    def collection() -> Collection:
        return Collection(dumps=[files.read_dump(p) for p in paths])

    out = []
    for snapshot in pipeline.infer_services(pipeline.parse_collection(collection())):
        c = collection()
        out.append(pipeline.analyse(snapshot, pipeline.parse_collection(c), c).to_dict())
    return out


@pytest.mark.parametrize("source", ["generated", "shared", "fixture"])
def test_ipvs_audit_equals_each_virtual_server_alone(source: str, tmp_path) -> None:
    """IPVS names no Service, so there is no `svcpath NAME` run: the one-pass audit is held to each
    unnamed Service of the dump-only list analysed on its own."""
    if source == "generated":
        dump = tmp_path / "ipvsadm.txt"
        dump.write_text(ipvsadm_listing(40))
        paths = [str(dump)]
    elif source == "shared":
        require_shared()
        paths = [str(DUMPS / "upstream-ipvs-readme-ipvsadm-ln.txt")]
    else:
        fixtures = Path(__file__).resolve().parents[2] / "fixtures" / "ipvs"
        paths = [str(fixtures / "hello-ipvsadm-Ln.txt"), str(fixtures / "hello-ipvsadm-Ln-stats-exact.txt"),
                 str(fixtures / "hello-iptables-save.txt")]
    audit = _reports(Options(rules_files=paths, all_services=True))
    alone = _alone(paths)
    assert len(audit) == len(alone) > 0
    key = json.dumps
    assert sorted(map(partial(key, sort_keys=True), audit)) == sorted(map(partial(key, sort_keys=True), alone))
