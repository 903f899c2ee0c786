"""Live, a save whose KUBE-SERVICES holds no rule has kube-proxy's nftables table listed beside it
(collect.kube_proxy_pod.saves_without_services). `iptables-save -c` writes its rules after their counters: such a
save holds Services, and no extra listing may run (it did, on every live iptables node, for one landing)."""

from __future__ import annotations

from kubectl_svcpath.collect.kube_proxy_pod import saves_without_services
from kubectl_svcpath.dump import RuleDump

_RULE = '-A KUBE-SERVICES -d 10.96.0.10/32 -p tcp -m comment --comment "shop/web:http cluster IP" -j KUBE-SVC-AAAAAAAAAAAAAAAA\n'
_HEAD = "*nat\n:KUBE-SERVICES - [0:0]\n"


def _save(body: str) -> RuleDump:
    return RuleDump(source="pod", text=_HEAD + body + "COMMIT\n", format="iptables-save")


def test_a_save_with_counters_holds_services() -> None:
    assert not saves_without_services([_save("[12:720] " + _RULE)])
    assert not saves_without_services([_save(_RULE)])


def test_a_save_without_a_services_rule() -> None:
    assert saves_without_services([_save("[0:0] -A KUBE-POSTROUTING -j RETURN\n")])
    assert not saves_without_services([])  # no save at all: nothing to say
