"""The kubeconfig's credential plugin (user.exec: aws eks get-token, gke-gcloud-auth-plugin, kubelogin) failing: one
error line that says so, with the plugin's own words, as kubectl's 'getting credentials: exec: …'. The client logs
the failure on the root logger and goes on without credentials: it was a stray 'ERROR:root:exec: process
returned 1. …' line (the plugin's stderr, escape sequences and all) and then 'the API server rejected the
credentials'. No root needed."""

from __future__ import annotations

import json

import pytest

from kubectl_svcpath.errors import ExitCode
from tests.conftest import svcpath
from tests.fakeapi.server import FakeApiServer
from tests.live.test_faults import hint_of, no_lab_hello, one_error

pytestmark = pytest.mark.api

API_VERSION = "client.authentication.k8s.io/v1beta1"


def _run(api: FakeApiServer, tmp_path, plugin: dict) -> tuple[int, str, str]:
    kc = api.write_kubeconfig(tmp_path / "kc", user={"exec": {"apiVersion": API_VERSION, **plugin}})
    return svcpath("hello-service", "--kubeconfig", str(kc))


def test_an_expired_login_is_the_plugins_own_words_and_no_request(api: FakeApiServer, tmp_path):
    no_lab_hello(api)
    script = tmp_path / "get-token"
    script.write_text("#!/bin/sh\nprintf '\\033[31mError: the SSO session has expired, run aws sso login\\033[0m\\n' >&2\nexit 255\n")
    script.chmod(0o755)
    code, out, err = _run(api, tmp_path, {"command": str(script), "args": ["eks", "get-token"]})
    assert (code, out) == (ExitCode.FORBIDDEN, "")
    assert "ERROR:root" not in err and "\x1b" not in err
    assert one_error(err) == ('error: getting credentials: the kubeconfig\'s exec plugin of user "lab-user" failed: exec: '
                              "process returned 255. [31mError: the SSO session has expired, run aws sso login[0m")
    assert hint_of(err) == f"hint: log in again, then check with: {script} eks get-token"
    assert [r for r in api.cluster.requests if r.path != "/version"] == []  # nothing went out without credentials


def test_a_plugin_that_is_not_installed_says_so_with_its_install_hint(api: FakeApiServer, tmp_path):
    no_lab_hello(api)
    code, _, err = _run(api, tmp_path, {"command": "kubelogin-not-here", "args": ["get-token"],
                                        "installHint": "kubelogin is needed: https://example.com/kubelogin#install"})
    assert code == ExitCode.FORBIDDEN and "ERROR:root" not in err
    assert one_error(err) == ('error: getting credentials: the kubeconfig\'s exec plugin of user "lab-user", '
                              "kubelogin-not-here, is not installed (not found in $PATH)")
    assert hint_of(err) == "hint: kubelogin is needed: https://example.com/kubelogin#install"


def test_a_plugin_that_works_is_used(api: FakeApiServer, tmp_path):
    no_lab_hello(api)
    api.cluster.faults.missing_binaries = {"iptables-save"}  # stop at the exec: every API read went through
    cred = {"apiVersion": API_VERSION, "kind": "ExecCredential", "status": {"token": api.cluster.token}}
    code, _, err = _run(api, tmp_path, {"command": "echo", "args": [json.dumps(cred)]})
    assert code == ExitCode.COLLECT_FAILED and "cannot run `iptables-save -c`" in one_error(err), err
    assert {r.credential for r in api.cluster.requests} == {"token"}


def test_a_rejected_token_names_its_context_and_the_kubectl_command_that_shows_the_same(api: FakeApiServer, tmp_path):
    """An expired token: the hint said 'check with: kubectl get --raw /version', which asks the current context of the
    default kubeconfig - not the one the run used (--kubeconfig, --context)."""
    no_lab_hello(api)
    kc = api.write_kubeconfig(tmp_path / "my kc", token="expired")
    code, _, err = svcpath("hello-service", "--kubeconfig", str(kc), "--context", "lab-team")
    assert code == ExitCode.FORBIDDEN
    assert one_error(err).startswith("error: unauthorized at https://127.0.0.1:")
    assert hint_of(err) == ('hint: log in again or refresh the token of context "lab-team"; check with: kubectl '
                            f"--kubeconfig '{kc}' --context lab-team get --raw /version")
