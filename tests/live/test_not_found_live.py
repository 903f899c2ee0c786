"""Live, a name the API has no Service (or node) of: the hint says what to run instead, from what the API lists
(the namespace that holds a Service of that name, the close names), as the offline hint names what a dump holds.
No root needed: the fake API server answers before any command would run."""

from __future__ import annotations

import pytest

from kubectl_svcpath.errors import ExitCode
from tests.conftest import svcpath
from tests.fakeapi.server import FakeApiServer
from tests.live.test_faults import hint_of, no_lab_hello, one_error, only_reads

pytestmark = pytest.mark.api


def test_a_service_in_another_namespace_is_named_with_the_command_that_reads_it(api: FakeApiServer, tmp_path):
    """`-n nope hello-service` (or a context whose namespace is not the Service's) said only
    'kubectl get services -n nope', which lists nothing: the Service is in default."""
    no_lab_hello(api)
    kc = str(api.write_kubeconfig(tmp_path / "kc"))
    code, out, err = svcpath("hello-service", "-n", "nope", "--kubeconfig", kc)
    assert (code, out) == (ExitCode.NOT_FOUND, "")
    assert one_error(err) == 'error: service "hello-service" in namespace "nope" not found'
    assert hint_of(err) == 'hint: a Service "hello-service" is in namespace default: kubectl svcpath hello-service -n default'
    # one LIST across namespaces by name, what `kubectl get services -A --field-selector metadata.name=…` sends
    named = [r for r in api.cluster.requests if r.path == "/api/v1/services"]
    assert [r.query["fieldSelector"] for r in named] == [["metadata.name=hello-service"]]
    assert api.cluster.execs() == []
    only_reads(api)

    shop = {**api.cluster.objects[("Service", "default", "hello-service")]}
    shop["metadata"] = {**shop["metadata"], "namespace": "shop"}
    api.cluster.add(shop)
    _, _, err = svcpath("hello-service", "-n", "nope", "--kubeconfig", kc)
    assert hint_of(err) == ('hint: a Service "hello-service" is in namespaces default and shop: kubectl svcpath '
                            "hello-service -n NAMESPACE (kubectl get services -A --field-selector "
                            "metadata.name=hello-service lists them)")


def test_a_typo_is_answered_with_the_close_names_of_the_namespace(api: FakeApiServer, tmp_path):
    no_lab_hello(api)
    code, _, err = svcpath("hello-servic", "--kubeconfig", str(api.write_kubeconfig(tmp_path / "kc")))
    assert code == ExitCode.NOT_FOUND
    assert one_error(err) == 'error: service "hello-servic" in namespace "default" not found'
    assert hint_of(err) == "hint: did you mean hello-service? (kubectl get services -n default lists them all)"
    only_reads(api)


@pytest.mark.parametrize("typed", ["svc", "services", "Service"])
def test_kubectls_word_for_services_typed_alone_is_answered_with_the_form_that_names_one(api: FakeApiServer, tmp_path,
                                                                                         typed):
    """`kubectl svcpath svc`, typed as `kubectl get svc` is: 'check the name and the namespace', or for "services"
    'did you mean hello-service?', as if it were a Service's name misspelled."""
    no_lab_hello(api)
    code, _, err = svcpath(typed, "--kubeconfig", str(api.write_kubeconfig(tmp_path / "kc")))
    assert code == ExitCode.NOT_FOUND
    assert one_error(err) == f'error: service "{typed}" in namespace "default" not found'
    assert hint_of(err) == (f'hint: "{typed}" is kubectl\'s word for Services: name one, kubectl svcpath svc/NAME '
                            "(kubectl get services -n default lists them)")
    only_reads(api)


def test_without_leave_to_list_services_the_hint_is_the_plain_one(api: FakeApiServer, tmp_path):
    """The lookups are extra reads: denied, they leave the hint kubectl users know, not a 403 of their own."""
    no_lab_hello(api)
    api.cluster.faults.forbidden_paths = [r"/services$"]
    code, _, err = svcpath("hello-servic", "--kubeconfig", str(api.write_kubeconfig(tmp_path / "kc")))
    assert code == ExitCode.NOT_FOUND
    assert one_error(err) == 'error: service "hello-servic" in namespace "default" not found'
    assert hint_of(err) == "hint: check the name and the namespace (-n): kubectl get services -n default"


@pytest.mark.parametrize("typed", ["cp1", "cp01.example.com", "CP01"])
def test_a_node_name_typed_wrong_is_answered_with_the_close_node_names(api: FakeApiServer, tmp_path, typed):
    """A short name for an FQDN node (or the reverse), a typo: the node list the plugin read names it."""
    no_lab_hello(api, nodes=("cp01", "worker-7"))
    kc = str(api.write_kubeconfig(tmp_path / "kc"))
    for args in (["--node", typed], ["--nodes", f"worker-7,{typed}"]):
        code, out, err = svcpath("hello-service", *args, "--kubeconfig", kc)
        assert (code, out) == (ExitCode.NOT_FOUND, "")
        assert one_error(err) == f'error: node "{typed}" not found'
        assert hint_of(err) == "hint: did you mean cp01? (kubectl get nodes lists them all)"
    _, _, err = svcpath("hello-service", "--node", "zzz", "--kubeconfig", kc)
    assert hint_of(err) == "hint: list the nodes with: kubectl get nodes"
    assert api.cluster.execs() == []


def test_a_node_not_found_is_said_without_leave_to_list_nodes(api: FakeApiServer, tmp_path):
    """The node's GET answered 404; the LIST for the close names was denied: it said 'forbidden: cannot list
    nodes' (exit 5) of a node that is not there."""
    no_lab_hello(api)
    api.cluster.faults.forbidden_paths = ["/nodes$"]
    code, out, err = svcpath("hello-service", "--node", "cp9", "--kubeconfig", str(api.write_kubeconfig(tmp_path / "kc")))
    assert (code, out) == (ExitCode.NOT_FOUND, "")
    assert one_error(err) == 'error: node "cp9" not found'
    assert hint_of(err) == "hint: list the nodes with: kubectl get nodes"


def test_a_certificate_for_another_name_names_the_flag_and_how_to_see_its_names(api: FakeApiServer, tmp_path):
    no_lab_hello(api)
    kc = api.write_kubeconfig(tmp_path / "kc", server=api.url.replace("127.0.0.1", "localhost"))
    code, _, err = svcpath("hello-service", "--kubeconfig", str(kc))
    assert code == ExitCode.API_UNREACHABLE
    assert "Hostname mismatch, certificate is not valid for 'localhost'" in one_error(err)
    assert hint_of(err) == ("hint: the server's certificate does not name this address: connect by a name it holds, or "
                            f"give that name with --tls-server-name NAME; its names: openssl s_client -connect "
                            f"localhost:{api.port} </dev/null | openssl x509 -noout -ext subjectAltName")
