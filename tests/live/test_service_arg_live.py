"""Live, the Service argument as kubectl users write it: svc/web, service/web, services/web are the Service;
deploy/web, node/cp01 or web.shop are refused before any request, with the command that gets there. No root."""

from __future__ import annotations

import pytest

from kubectl_svcpath.errors import ExitCode
from tests.conftest import svcpath
from tests.fakeapi.server import FakeApiServer
from tests.live.test_faults import hint_of, no_lab_hello, one_error, only_reads

pytestmark = pytest.mark.api


@pytest.mark.parametrize("typed", ["svc/hello-service", "service/hello-service", "services/hello-service",
                                   "Service/hello-service", "services.v1./hello-service"])
def test_kubectls_forms_of_a_service_read_the_service(api: FakeApiServer, tmp_path, typed: str):
    no_lab_hello(api)
    api.cluster.faults.missing_binaries = {"iptables-save"}  # stop at the exec: which Service was read is tested
    code, _, err = svcpath(typed, "--kubeconfig", str(api.write_kubeconfig(tmp_path / "kc")))
    assert code == ExitCode.COLLECT_FAILED, err
    assert "/api/v1/namespaces/default/services/hello-service" in [r.path for r in api.cluster.requests]


NOT_THERE = ' (and the API has no Service "{name}" in namespace "{ns}")'


@pytest.mark.parametrize(("typed", "error", "hint"), [
    # was 'service "hello-service" in namespace "deploy" not found' (exit 4), with namespace "deploy"'s close names
    (["deploy/hello-service", "-n", "shop"], "svcpath takes a Service, not deploy/hello-service",
     "a Service fronts the pods its SELECTOR matches: kubectl get svc -n shop -o wide, kubectl get pods -n shop "
     "--show-labels; then kubectl svcpath SERVICE -n shop"),
    (["pods/hello-6d4f"], "svcpath takes a Service, not pods/hello-6d4f" + NOT_THERE.format(name="hello-6d4f", ns="pods"),
     "a Service fronts the pods its SELECTOR matches: kubectl get svc -o wide, kubectl get pods --show-labels; then "
     "kubectl svcpath SERVICE"),
    (["node/cp01"], "svcpath takes a Service, not node/cp01" + NOT_THERE.format(name="cp01", ns="node"),
     "read node cp01's rules for a Service: kubectl svcpath SERVICE --node cp01"),
    (["ns/shop"], "svcpath takes a Service, not ns/shop" + NOT_THERE.format(name="shop", ns="ns"),
     "the Services of namespace shop: kubectl svcpath --all -n shop, or one: kubectl svcpath SERVICE -n shop"),
    (["ep/hello-service"], "svcpath takes a Service, not ep/hello-service" + NOT_THERE.format(name="hello-service", ns="ep"),
     "Endpoints are named after their Service: kubectl svcpath hello-service"),
    (["endpointslices/hello-service-x7k2q"], "svcpath takes a Service, not endpointslices/hello-service-x7k2q"
     + NOT_THERE.format(name="hello-service-x7k2q", ns="endpointslices"),
     "its Service is its label kubernetes.io/service-name: kubectl get endpointslice hello-service-x7k2q "
     "-L kubernetes.io/service-name; then kubectl svcpath SERVICE"),
    (["ing/web"], "svcpath takes a Service, not ing/web" + NOT_THERE.format(name="web", ns="ing"),
     "its backends are Services: kubectl describe ingress web; then kubectl svcpath SERVICE"),
])
def test_another_kind_is_one_usage_line_with_the_command_to_run(api: FakeApiServer, tmp_path, typed, error, hint):
    assert _refusal(api, tmp_path, typed) == (f"error: {error}", f"hint: {hint}")
    assert api.cluster.execs() == []
    only_reads(api)


@pytest.mark.parametrize(("typed", "error", "hint"), [
    (["VirtualService/web"], "svcpath takes a Service, not VirtualService/web",
     "name it as NAME, svc/NAME or NAMESPACE/NAME (a namespace is lowercase, without dots); kubectl get svc lists them"),
    # kubectl reads it as the name "hello-service.default" (not found): the DNS name's two parts, said
    (["svc/hello-service.default"], 'a Service name has no dots: "hello-service.default" reads as a DNS name',
     "Service hello-service in namespace default: kubectl svcpath hello-service -n default"),
])
def test_what_names_no_namespace_nor_service_is_refused_before_any_request(api: FakeApiServer, tmp_path, typed, error, hint):
    assert _refusal(api, tmp_path, typed) == (f"error: {error}", f"hint: {hint}")
    assert api.cluster.requests == []


def _refusal(api: FakeApiServer, tmp_path, typed: list[str]) -> tuple[str, str]:
    """(error line, hint line) of a run that must be refused as a usage error, printing nothing on stdout."""
    no_lab_hello(api)
    code, out, err = svcpath(*typed, "--kubeconfig", str(api.write_kubeconfig(tmp_path / "kc")))
    assert (code, out) == (ExitCode.USAGE, "")
    return one_error(err), hint_of(err)


def test_a_namespace_named_as_a_kind_is_read(api: FakeApiServer, tmp_path):
    """microk8s's ingress controller runs in namespace "ingress"; `--all -A` prints it as ingress/NAME."""
    no_lab_hello(api)
    api.cluster.faults.missing_binaries = {"iptables-save"}
    svc = {**api.cluster.objects[("Service", "default", "hello-service")]}
    api.cluster.add({**svc, "metadata": {**svc["metadata"], "namespace": "ingress"}})
    code, _, err = svcpath("ingress/hello-service", "--kubeconfig", str(api.write_kubeconfig(tmp_path / "kc")))
    assert code == ExitCode.COLLECT_FAILED, err
    assert "/api/v1/namespaces/ingress/services/hello-service" in [r.path for r in api.cluster.requests]


def test_a_kind_word_read_in_a_namespace_the_user_may_not_read_is_refused_as_the_kind(api: FakeApiServer, tmp_path):
    """A user whose Role covers their own namespaces typed deploy/web: 'forbidden: cannot get service "web" in
    namespace "deploy"' (exit 5) and the can-i of a namespace that does not exist."""
    api.cluster.faults.forbidden_paths = [r"/namespaces/deploy/"]
    assert _refusal(api, tmp_path, ["deploy/web"]) == (
        'error: svcpath takes a Service, not deploy/web (and reading Service "web" in namespace "deploy" is forbidden)',
        "hint: a Service fronts the pods its SELECTOR matches: kubectl get svc -o wide, kubectl get pods --show-labels; "
        "then kubectl svcpath SERVICE")
    api.cluster.faults.forbidden_paths = [r"/namespaces/shop/"]  # a namespace's own name: its refusal, as it was
    code, _, err = svcpath("shop/web", "--kubeconfig", str(api.write_kubeconfig(tmp_path / "kc")))
    assert code == ExitCode.FORBIDDEN and one_error(err).startswith('error: forbidden: cannot get service "web" in namespace "shop"')
