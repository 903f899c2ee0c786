"""A set or map block of kube-proxy's table pasted without the table (and often cut inside its elements).

kubernetes/kubernetes#131765 (tests/corpus) pastes `map no-endpoint-services { … elements = { ADDR . tcp . 80
comment "ns/svc:port" : drop,` and stops. The plugin refused it as "not a rule dump"; it names the Service,
its port, the address and the verdict. Read inside kube-proxy's table, the report says what the paste shows
(a drop: a Local policy, no endpoint here) and nothing it does not (the address's kind, the other maps).
"""

from __future__ import annotations

import json
from pathlib import Path

from tests.conftest import ROOT, svcpath

PASTE = str(ROOT / "tests" / "corpus" / "k8s-131765-nft-no-endpoint-services-map-cut.txt")
SERVICE = "sys-ingress-priv/internal-ingress-controller-v2"
CLUSTER_IPS_V6 = """\
set cluster-ips {
        type ipv6_addr
        comment "Active ClusterIPs"
        elements = { fd00:10:96::1, fd00:10:96::a }
}
map no-endpoint-services {
        type ipv6_addr . inet_proto . inet_service : verdict
        elements = { fd00:10:96::a . tcp . 53 comment "kube-system/kube-dns:dns-tcp" : goto reject-chain }
}
"""


def test_a_cut_map_block_is_read_inside_kube_proxys_table() -> None:
    code, out, err = svcpath(SERVICE, "--rules-file", PASTE, "-o", "json")
    assert code == 0, err
    doc = json.loads(out)
    (path,) = doc["ports"][0]["paths"]
    assert (path["entry"], path["address"], path["port"], path["verdict"]) == ("address", "10.88.1.2", 80, "drop")
    assert doc["service"]["unknownKindIPs"] == ["10.88.1.2"] and doc["service"]["externalIPs"] is None
    assert doc["service"]["externalTrafficPolicy"] is None and doc["service"]["internalTrafficPolicy"] is None
    assert doc.get("excerpt") is True
    assert any(n.startswith("map no-endpoint-services pasted without its table: read as table ip kube-proxy") for n in doc["notes"])
    code, out, err = svcpath("--rules-file", PASTE, "--all")
    assert code == 0, err
    assert "Services it does not show may exist" in out


def test_set_and_map_blocks_of_an_ip6_table(tmp_path: Path) -> None:
    f = tmp_path / "blocks.txt"
    f.write_text(CLUSTER_IPS_V6)
    code, out, err = svcpath("kube-system/kube-dns", "--rules-file", str(f), "-o", "json")
    assert code == 3, err
    doc = json.loads(out)
    (path,) = doc["ports"][0]["paths"]
    # the cluster-ips set tells the address's kind: a cluster IP with no endpoints (reject)
    assert (path["entry"], path["address"], path["verdict"]) == ("clusterIP", "fd00:10:96::a", "reject")
    assert any("read as table ip6 kube-proxy" in n for n in doc["notes"])
