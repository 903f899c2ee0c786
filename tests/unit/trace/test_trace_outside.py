"""--trace outside: a client elsewhere never sends from one of this node's addresses.

kube-proxy's KUBE-EXT chain masquerades traffic whose source is local (`-m addrtype --src-type LOCAL`);
tracing from "outside" forked there on "is outside (address not given) a local address of the node?
(give --node-ip)", a question the source itself answers (and --node-ip cannot), doubling the branches.
"""

from __future__ import annotations

import json

from tests.conftest import svcpath
from tests.lab.kpgen import PortSpec, ProxyConfig, ServiceSpec, api_objects, save_text

NODE_IP = "172.18.0.2"


def test_outside_is_not_a_local_address_of_the_node(tmp_path):
    svc = ServiceSpec("shop", "loc", "10.96.0.40", [PortSpec("http", 80, 8080, node_port=30080)], endpoints=["10.244.2.10"],
                      type="NodePort", external_traffic_policy="Local")
    (tmp_path / "nat.txt").write_text(save_text([svc], ProxyConfig(cluster_cidr="10.244.0.0/16", jumps=True)))
    (tmp_path / "svc.json").write_text(json.dumps({"apiVersion": "v1", "kind": "List",
                                                   "items": api_objects(svc, node_of={"10.244.2.10": "w1"})}))

    code, out, err = svcpath("loc", "-n", "shop", "--rules-file", str(tmp_path / "nat.txt"), "--manifest",
                             str(tmp_path / "svc.json"), "--node", "w1", "--trace", "outside", "--to",
                             f"{NODE_IP}:30080", "--node-ip", NODE_IP, "-o", "wide")

    assert code == 0, err
    assert "a local address of the node" not in out, out
    assert "Verdict:  delivered to 10.244.2.10:8080" in out, out
