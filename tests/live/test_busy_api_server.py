"""An API server that answers 429 (API Priority and Fairness), 500 or 503: a `Retry-After` is waited out and the
request sent again, as client-go (so kubectl) does, within --request-timeout; otherwise one error line that names
the status, the request, how often it was tried, and what to do. No root needed."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from typing import NamedTuple

import pytest

from kubectl_svcpath.errors import ExitCode
from tests.conftest import svcpath
from tests.fakeapi.server import FakeApiServer, StatusFault
from tests.lab import kpgen
from tests.live.test_faults import hint_of, no_lab_hello, one_error, only_reads

pytestmark = pytest.mark.api


class Ran(NamedTuple):
    code: int
    out: str
    err: str
    seconds: float


@pytest.fixture
def run(api: FakeApiServer, tmp_path) -> Callable[..., Ran]:
    """hello-service on node cp01 (no lab: the faults come before any command would run, or its output is replayed);
    ``run(*args)``: the plugin through a kubeconfig for the fake API server, timed."""
    no_lab_hello(api)
    kubeconfig = str(api.write_kubeconfig(tmp_path / "kc"))

    def run(*args: str) -> Ran:
        started = time.monotonic()
        code, out, err = svcpath(*args, "--kubeconfig", kubeconfig)
        return Ran(code, out, err, time.monotonic() - started)

    return run


def _gets(api: FakeApiServer, path: str) -> list[int]:
    return [r.status for r in api.cluster.requests if r.path == path]


def test_a_throttled_read_is_sent_again_after_its_retry_after(api: FakeApiServer, run):
    """Twice 429 with Retry-After: 1, then the Service: kubectl would show it; the plugin said
    'the API server answered 429 to service ...' (exit 6) at the first one."""
    api.cluster.faults.missing_binaries = {"iptables-save"}  # stop at the exec: the API reads are what is tested
    api.cluster.faults.statuses = [StatusFault("/services/hello-service$", 429, "1", times=2)]
    got = run("hello-service", "-v", "6")
    assert 2 <= got.seconds < 10
    assert got.code == ExitCode.COLLECT_FAILED, got.err  # (the exec's failure: every read went through)
    assert _gets(api, "/api/v1/namespaces/default/services/hello-service") == [429, 429, 200]
    assert got.err.count("/services/hello-service 429 Too Many Requests in ") == 2  # -v 6 shows each try
    only_reads(api)


def test_a_server_that_keeps_asking_to_wait_ends_within_the_request_timeout(api: FakeApiServer, run):
    api.cluster.faults.statuses = [StatusFault("/pods$", 503, "1")]
    got = run("hello-service", "--request-timeout", "3s")
    assert got.seconds < 3 + 1
    assert got.code == ExitCode.API_UNREACHABLE == 6
    line = one_error(got.err)
    assert line.startswith('error: the API server answered 503 Service Unavailable to list pods in namespace "kube-system": '
                           "the server is currently unable to handle the request (3 tries in ")
    assert line.endswith("s; its Retry-After of 1s would pass --request-timeout 3s)")
    assert hint_of(got.err) == "hint: retry; if it persists, check the API server's health: kubectl get --raw='/readyz?verbose'"


def test_a_retry_after_past_the_request_timeout_is_not_waited_for(api: FakeApiServer, run):
    api.cluster.faults.statuses = [StatusFault("/services/", 429, "60")]
    got = run("hello-service", "--request-timeout", "5s")
    assert got.seconds < 3
    assert got.code == ExitCode.API_UNREACHABLE
    assert one_error(got.err) == ('error: the API server answered 429 Too Many Requests to get service "hello-service" in '
                                  'namespace "default": Too many requests, please try again later. (its Retry-After of 60s '
                                  "would pass --request-timeout 5s)")
    assert hint_of(got.err) == "hint: the API server is shedding load (API Priority and Fairness): retry in a minute"


@pytest.mark.parametrize("status,words", [
    (500, "500 Internal Server Error to get service \"hello-service\" in namespace \"default\": Internal error occurred"),
    (503, "503 Service Unavailable to get service \"hello-service\" in namespace \"default\": the server is currently"),
])
def test_an_error_status_without_retry_after_is_one_line_at_once(api: FakeApiServer, run, status, words):
    """It said 'the API server answered 500 to service "hello-service"': no reason phrase, no verb."""
    api.cluster.faults.statuses = [StatusFault("/services/", status)]
    got = run("hello-service")
    assert (got.code, got.out) == (ExitCode.API_UNREACHABLE, "")
    assert one_error(got.err).startswith(f"error: the API server answered {words}")
    assert _gets(api, "/api/v1/namespaces/default/services/hello-service") == [status]


def test_a_cluster_without_discovery_k8s_io_v1_says_so_as_kubectl_would(api: FakeApiServer, run):
    """A LIST is never 'not found': before Kubernetes 1.21 (EndpointSlices in v1beta1 only) the 404 of the
    EndpointSlice LIST said 'error: endpointslices in namespace "default" not found', exit 4, no hint."""
    api.cluster.faults.statuses = [StatusFault("/apis/discovery.k8s.io/v1/", 404)]
    for args in (["hello-service"], ["--all"]):
        got = run(*args)
        assert (got.code, got.out) == (ExitCode.UNSUPPORTED, "")
        assert one_error(got.err) == ('error: the API server does not serve resource type "endpointslices" '
                                      "(discovery.k8s.io/v1): LIST answered 404")
        assert hint_of(got.err) == ("hint: kubectl-svcpath reads discovery.k8s.io/v1 EndpointSlices, served from "
                                    "Kubernetes 1.21; check with: kubectl api-resources --api-group=discovery.k8s.io")


def _exec_statuses(api: FakeApiServer, argv: tuple[str, ...]) -> list[int]:
    return [r.status for r in api.cluster.requests if r.argv is not None and tuple(r.argv) == argv]


SAVE = ("iptables-save", "-c")


def test_a_throttled_exec_upgrade_is_sent_again_after_its_retry_after(api: FakeApiServer, run):
    """The upgrade answered 429 (or 503) with Retry-After: the reads were retried so, the exec was not: 'the API server
    answered 429 Too Many Requests to exec into pod …' (exit 6) where kubectl would have waited and run it."""
    api.cluster.replay[("", SAVE)] = kpgen.generate([kpgen.hello_service()], kpgen.HELLO_CONFIG).encode()
    api.cluster.faults.statuses = [StatusFault("/pods/kube-proxy-[^/]*/exec$", 429, "1", times=1),
                                   StatusFault("/exec$", 503, "1", times=1)]
    got = run("hello-service", "-v", "6")
    assert 2 <= got.seconds < 10
    assert got.code == ExitCode.OK, got.err
    assert "port-v1 39090/TCP → 1 of 1 endpoint (ready)" in got.out
    assert _exec_statuses(api, SAVE) == [429, 503, 101]
    tries = [ln for ln in got.err.splitlines() if "/exec?command=iptables-save&command=-c&" in ln]  # -v 6: each try
    assert [re.search(r" (\d{3} [A-Za-z ]+) in \d+ ms$", ln).group(1) for ln in tries] == [  # type: ignore[union-attr]
        "429 Too Many Requests", "503 Service Unavailable", "101 Switching Protocols"]
    only_reads(api)


def test_an_exec_that_started_is_never_sent_again(api: FakeApiServer, run):
    """Only a refused upgrade is retried: once the command runs (101), its failure is its answer."""
    api.cluster.faults.statuses = [StatusFault("/exec$", 503, "1", times=1)]
    api.cluster.faults.exec_exit = {"iptables-save": (1, "iptables-save: lock held\n")}
    got = run("hello-service")
    assert got.code == ExitCode.COLLECT_FAILED, got.err
    assert _exec_statuses(api, SAVE) == [503, 101]


def test_an_exec_upgrade_that_keeps_asking_to_wait_ends_within_the_request_timeout(api: FakeApiServer, run):
    api.cluster.faults.statuses = [StatusFault("/exec$", 429, "1")]
    got = run("hello-service", "--request-timeout", "3s")
    assert got.seconds < 3 + 1
    assert got.code == ExitCode.API_UNREACHABLE, got.err
    line = one_error(got.err)
    assert line.startswith('error: the API server answered 429 Too Many Requests to exec into pod "kube-proxy-39f34" in '
                           'namespace "kube-system": Too many requests, please try again later. (3 tries in '), line
    assert line.endswith("s; its Retry-After of 1s would pass --request-timeout 3s)")
    assert _exec_statuses(api, SAVE) == [429, 429, 429]
