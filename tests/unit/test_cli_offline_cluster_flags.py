"""Cluster flags on a run that reads no cluster (--rules-file, --example, --local with --manifest): they were accepted and
silently ignored, so a user who typed --context prod and got an answer could take it for prod's. One stderr line says
so, worded as kubectl's own warnings ("Warning: Immediate deletion does not wait …"); the exit code is the run's."""

from __future__ import annotations

import pytest

from tests.conftest import DUMPS, svcpath

SAVE = str(DUMPS / "upstream-iptables-proxier-test-TestOverallIPTablesRules.txt")


@pytest.mark.parametrize(("plain", "flags", "warning"), [
    (["--example"], ["--context", "prod"], "Warning: --context is ignored: --example reads no cluster"),
    (["--example"], ["--kubeconfig=/tmp/prod.yaml", "--token", "s3cr3t", "--as", "me", "-v", "6"],
     "Warning: --kubeconfig, --token, --as and -v are ignored: --example reads no cluster"),
    (["ns1/svc1", "-f", SAVE], ["-s", "https://10.0.0.1:6443", "--request-timeout", "5s", "--insecure-skip-tls-verify"],
     "Warning: --request-timeout, --server and --insecure-skip-tls-verify are ignored: --rules-file reads no cluster"),
    (["--all", "--rules-file", SAVE], ["--cluster", "prod", "--user", "admin", "--as", "me", "--as-group", "g"],
     "Warning: --cluster, --user, --as and --as-group are ignored: --rules-file reads no cluster"),
])
def test_a_cluster_flag_offline_is_said_to_be_ignored(plain: list[str], flags: list[str], warning: str) -> None:
    code, out, err = svcpath(*plain, *flags)
    assert (code, out) == svcpath(*plain)[:2], err  # (the answer and its exit code are the run's own)
    assert err.splitlines() == [warning], err
    assert "s3cr3t" not in err


def test_no_warning_without_such_a_flag() -> None:
    code, out, err = svcpath("--example")
    assert code == 0 and err == "", err
    code, out, err = svcpath("--all", "-f", SAVE, "-n", "ns1", "--request-timeout", "0")
    assert err == "Warning: --request-timeout is ignored: --rules-file reads no cluster\n", err  # (-n is the dump's namespace)


def test_local_reads_the_cluster_unless_given_a_manifest() -> None:
    from kubectl_svcpath.options import Options, unused_cluster_flags

    assert unused_cluster_flags(Options(local=True, manifests=["svc.yaml"], cluster_flags=("--context",))) == \
        "Warning: --context is ignored: --local with --manifest reads no cluster"
    assert unused_cluster_flags(Options(local=True, cluster_flags=("--context",))) is None  # (the Service from the API)
    assert unused_cluster_flags(Options(service="web", cluster_flags=("--context",))) is None  # (live)
