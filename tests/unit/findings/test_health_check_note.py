"""The health check node port is the Service's (one for all its ports), and its answer is kube-proxy's
expected one from the API's view, not a probe: one note, worded as an expectation.

A two-port LoadBalancer with externalTrafficPolicy Local printed "port https: health check node port
32000 answers 200 (1 local ready endpoint(s))" and the same line again for port dns.
"""

from __future__ import annotations

import json

from tests.conftest import svcpath
from tests.lab.kpgen import PortSpec, ServiceSpec, api_objects, save_text


def test_one_health_check_note_for_a_two_port_service(tmp_path):
    lb = ServiceSpec("shop", "lb", "10.96.0.50", [PortSpec("https", 443, 8443, node_port=30443),
                                                  PortSpec("dns", 53, 5353, protocol="UDP", node_port=30053)],
                     endpoints=["10.244.1.10", "10.244.2.10"], local_endpoints={"10.244.1.10"}, type="LoadBalancer",
                     lb_ips=["203.0.113.10"], external_traffic_policy="Local", health_check_node_port=32000)
    (tmp_path / "nat.txt").write_text(save_text([lb]))
    objects = api_objects(lb, node_of={"10.244.1.10": "w1", "10.244.2.10": "w2"})
    (tmp_path / "svc.json").write_text(json.dumps({"apiVersion": "v1", "kind": "List", "items": objects}))

    code, out, err = svcpath("lb", "-n", "shop", "--rules-file", str(tmp_path / "nat.txt"), "--manifest",
                             str(tmp_path / "svc.json"), "--node", "w1", "-o", "wide")

    assert code == 0, err
    notes = [ln for ln in out.splitlines() if "health check node port" in ln]
    assert notes == ["Note:     health check node port 32000 should answer 200 (1 local ready endpoint)"], out
