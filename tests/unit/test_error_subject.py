"""Code that reacts to an error reads what it is about from the error's fields, never from its words.

service_arg.kind_not_namespace turns 'deploy/web' not found (or forbidden) into "svcpath takes a Service" only
for an error about a Service; kube.client.translate's re-login hint only for a 401. Each was decided by the
message's first words: rewording a message would have silently changed what users read.
"""

from __future__ import annotations

import pytest
from kubernetes.client.exceptions import ApiException

from kubectl_svcpath.errors import Forbidden, NotFound, Unauthorized
from kubectl_svcpath.kube.client import Call, Kube, translate
from kubectl_svcpath.service_arg import kind_not_namespace


def _reworded(err: NotFound | Forbidden) -> NotFound | Forbidden:
    """The same error, its message in other words."""
    err.message = "the API server had nothing to give"
    return err


@pytest.mark.parametrize("status", [403, 404])
def test_refusal_of_a_kind_reads_the_subject(status: int) -> None:
    err = translate(ApiException(status=status, reason="x"), Call("get", "services", "web", "deploy"))
    assert isinstance(err, (NotFound, Forbidden)) and err.subject == "services"
    refused = kind_not_namespace("deploy/web", None, None, _reworded(err))
    assert refused is not None and refused.message.startswith("svcpath takes a Service, not deploy/web (and ")


def test_an_error_about_another_object_is_left_alone() -> None:
    # a node "web" not found, worded as a Service's would be: not a Service's error, so not refused as a kind
    err = translate(ApiException(status=404, reason="x"), Call("get", "nodes", "web"))
    err.message = 'service "web" in namespace "deploy" not found'
    assert kind_not_namespace("deploy/web", None, None, err) is None
    # a LIST is about no one object: its refusal is not about the Service typed
    listed = translate(ApiException(status=403, reason="x"), Call("list", "services", None, "deploy"))
    assert listed.subject is None and kind_not_namespace("deploy/web", None, None, listed) is None


def test_offline_not_found_is_about_a_service(tmp_path) -> None:
    from kubectl_svcpath.cli import main

    dump = tmp_path / "rules.txt"
    dump.write_text('-A KUBE-SERVICES -d 10.96.0.10/32 -p tcp -m comment --comment "shop/web:http cluster IP" '
                    "-m tcp --dport 80 -j KUBE-SVC-AAAAAAAAAAAAAAAA\n")
    with pytest.raises(SystemExit) as e:
        main(["deploy/web", "--rules-file", str(dump)])
    assert e.value.code == 2  # usage: the kind refused, as the reworded API errors above


def test_relogin_hint_reads_the_class() -> None:
    kube = Kube.__new__(Kube)
    kube.context, kube.kubeconfig = "prod", "/home/me/.kube/config"
    err = translate(ApiException(status=401, reason="Unauthorized"), Call("get", "services", "web", "shop"), kube=kube)
    assert isinstance(err, Unauthorized) and 'refresh the token of context "prod"' in (err.hint or "")
    forbidden = translate(ApiException(status=403, reason="x"), Call("get", "services", "web", "shop"), kube=kube)
    assert not isinstance(forbidden, Unauthorized) and "prod" not in (forbidden.hint or "")
