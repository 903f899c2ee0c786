"""IPVS names no Service: a pasted `kubectl get svc` line or `kubectl describe service` ties virtual servers to one.
Each virtual server keeps its own kind: the cluster IP's is not a node port because the Service has one."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import svcpath

_CORPUS = Path(__file__).parents[3] / "corpus"

_DESCRIBED = """# kubectl describe svc cgen
Name:                     cgen
Namespace:                default
Type:                     NodePort
IP:                       10.96.4.8
Port:                     <unset>  5001/TCP
TargetPort:               5001/TCP
NodePort:                 <unset>  30669/TCP
Endpoints:                10.244.1.2:5001

# ipvsadm -L -n
IP Virtual Server version 1.2.1 (size=4096)
Prot LocalAddress:Port Scheduler Flags
  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn
TCP  192.168.0.4:30669 rr
  -> 10.244.1.2:5001              Masq    1      0          0
TCP  10.96.4.8:5001 rr
  -> 10.244.1.2:5001              Masq    1      0          0
"""


def _rows(out: str) -> list[str]:
    return [line for line in out.splitlines() if "TCP " in line and ("clusterIP" in line or "nodePort" in line)]


def test_the_cluster_ips_virtual_server_of_a_get_svc_line_is_the_cluster_ip_entry_and_the_node_ports_join_it() -> None:
    # kubernetes#68437: 'cgen NodePort fd00:4000::c698 1000::2 5001:30669/TCP' above the listing. The report said
    # 'nodePort  [fd00:4000::c698]:5001' and listed 5001/TCP twice (the node ports' virtual servers a port of their own)
    code, out, err = svcpath("--rules-file", str(_CORPUS / "k8s-68437-ipvsadm-ipv6-only-nodeport-ipv4-cut-real-server.txt"),
                             "cgen")
    assert code == 0, err
    assert out.count("\nPORT ") == 1 and out.count("(unnamed) 5001/TCP  ") == 1, out
    rows = _rows(out)
    assert [r.split()[2:4] if r.startswith("(") else r.split()[:2] for r in rows] == [
        ["clusterIP", "[fd00:4000::c698]:5001"], ["nodePort", "127.0.0.1:30669"], ["nodePort", "192.168.0.4:30669"]], rows


def test_a_described_services_cluster_ip_virtual_server_is_not_called_its_node_port(tmp_path: Path) -> None:
    paste = tmp_path / "described.txt"
    paste.write_text(_DESCRIBED, encoding="utf-8")
    code, out, err = svcpath("--rules-file", str(paste), "default/cgen")
    assert code == 0, err
    assert "clusterIP  10.96.4.8:5001" in out and "nodePort  10.96.4.8:5001" not in out  # was nodePort


def test_a_trace_sends_the_packet_to_the_cluster_ip_as_a_cluster_ip() -> None:
    # was: 'Packet:   tcp fd00::9 -> [fd00:4000::c698]:5001 (nodePort)'
    code, out, err = svcpath("--rules-file", str(_CORPUS / "k8s-68437-ipvsadm-ipv6-only-nodeport-ipv4-cut-real-server.txt"),
                             "cgen", "--trace", "fd00::9")
    assert code == 0, err
    assert "Packet:   tcp fd00::9 -> [fd00:4000::c698]:5001 (clusterIP)" in out
