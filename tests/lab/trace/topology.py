"""The node both --trace labs use (one endpoint pod, a client inside the cluster and one outside) and its conntrack table."""

from __future__ import annotations

from tests.lab.netns import Lab, Node, Pod

NODE_IP = "172.18.0.2"


def web_node(lab: Lab) -> tuple[Node, Pod, Pod]:
    """Node cp01 with pod web-0 (10.244.1.5, serving 8080), a client pod (10.244.1.9) and a client
    "outside" (203.0.113.9: wired like a pod, outside the cluster CIDR); (node, client, outside)."""
    node = lab.add_node("cp01", NODE_IP)
    lab.add_pod(node, "web-0", "10.244.1.5", ports=[8080])
    client = lab.add_pod(node, "client", "10.244.1.9")
    outside = lab.add_pod(node, "outside", "203.0.113.9")
    return node, client, outside


def conntrack(lab: Lab, node: Node, dport: int) -> str:
    """The node's conntrack entries for TCP connections to dport (the kernel's DNAT and masquerade)."""
    return lab.run(node, ["conntrack", "-L", "-p", "tcp", "--orig-port-dst", str(dport)], check=False).stdout
