"""kubectl's habits that svcpath's one SERVICE argument does not take: say how to write them."""

from __future__ import annotations

import pytest

from tests.conftest import EXAMPLE, svcpath, svcpath_on


def test_kubectl_get_svc_name_habit_is_answered_with_the_one_word_form() -> None:
    code, out, err = svcpath("svc", "web", "-n", "shop", "--rules-file", "/nonexistent")

    assert code == 2 and out == ""
    error, hint = err.splitlines()
    # (in our words: click's were "argument (web)" in 8.1, "argument(s) (web)" later; the floor and the newest both run)
    assert error == 'error: unexpected argument "web": kubectl svcpath takes one Service (NAME, svc/NAME or NAMESPACE/NAME)'
    assert hint == "hint: name the Service in one word: kubectl svcpath svc/web (or just web)"


def test_another_extra_argument_keeps_the_general_hint() -> None:
    code, _, err = svcpath("web", "extra", "--rules-file", "/nonexistent")

    assert code == 2 and err.splitlines()[1] == "hint: see 'kubectl svcpath --help'"


@pytest.mark.parametrize(("args", "error"), [
    (["--port"], "flag needs an argument: --port"),  # was "Option '--port' requires an argument."
    (["-n"], "flag needs an argument: -n"),
    (["web", "extra", "more"], 'unexpected arguments "extra", "more": kubectl svcpath takes one Service (NAME, svc/NAME or NAMESPACE/NAME)'),
    # was "Invalid value for '--sample': Input should be a valid integer, unable to parse string as an integer"
    (["--sample", "x"], 'invalid argument "x" for --sample: a whole number is expected'),
    (["--max-parallel=two"], 'invalid argument "two" for --max-parallel: a whole number is expected'),
    (["-v", "high"], 'invalid argument "high" for --v: a whole number is expected'),
])
def test_clicks_usage_errors_read_as_kubectls(args: list[str], error: str) -> None:
    code, out, err = svcpath(*args)
    assert (code, out, err.splitlines()[0]) == (2, "", f"error: {error}")


def test_short_flags_with_an_equals_sign_as_kubectl_takes_them() -> None:
    """`-n=default` read "=default" as the namespace ('-n says "=default"'); kubectl takes -n=NS, -o=yaml."""
    code, out, err = svcpath("--example", "-n=default", "-o=JSON")
    assert (code, err) == (0, "") and out.startswith("{")
    code, _, err = svcpath("--example", "-n=kube-system", "hello-service")
    assert code == 4 and err.startswith('error: service "hello-service" not found in namespace "kube-system"')


def test_an_unknown_format_is_quoted_as_typed() -> None:
    """The error quoted it lower-cased: 'unknown output format "custom-columns=a:.b"'."""
    code, _, err = svcpath("--example", "-o", "custom-columns=NAME:.metadata.name")
    assert code == 2 and err.startswith('error: unknown output format "custom-columns=NAME:.metadata.name"')
    assert svcpath("--example", "--color", "Sometimes")[2].startswith('error: unknown --color "Sometimes"')


def test_interval_without_watch_is_said_not_ignored() -> None:
    """`--interval 3s` without --watch was taken and ignored: one report, no word about the flag."""
    code, out, err = svcpath("--example", "--interval", "3s")
    assert (code, out) == (2, "")
    assert err == "error: --interval is how often --watch reads the rules: add --watch (kubectl svcpath web --watch 5s)\n"


def test_a_manifest_with_the_example_is_said_not_ignored() -> None:
    """`--example --manifest svc.yaml` read the bundled manifest and said nothing of the one given."""
    code, out, err = svcpath("--example", "--manifest", "/nonexistent/svc.yaml")
    assert (code, out) == (2, "")
    assert err == "error: --example brings its own manifest: leave out --manifest, or pass your rules with --rules-file\n"


def test_a_proxy_mode_the_input_does_not_show_names_the_input_once() -> None:
    """With several sources the error read 'the input: proxy mode ... does not match the input: ...', then 'the input:
    proxy mode ... does not match it' (a file named "the input"?): the files are named, as one file is."""
    code, _, err = svcpath("--example", "--proxy-mode", "nftables")
    assert code == 8 and err.splitlines()[0] == (
        "error: example/hello-service/iptables-save-on-node-host.txt and example/hello-service/nft-list-table-ip-nat.json: "
        'proxy mode "nftables" (--proxy-mode) does not match them: iptables rules and nft -j output (proxy mode iptables)')


@pytest.mark.parametrize("typed", ["svc/hello-service", "service/hello-service", "services/hello-service",
                                   "Service/hello-service", "services.v1./hello-service", "svc.v1/hello-service"])
def test_kubectls_type_name_forms_of_a_service_are_read_as_the_service(typed: str) -> None:
    """kubectl's TYPE/NAME, case-insensitive, with the core group's version (`kubectl get services.v1./web`): the
    last two were read as namespace "services.v1." and said 'service "hello-service" not found in namespace …'."""
    assert svcpath(typed, "--example", "-o", "json") == svcpath("hello-service", "--example", "-o", "json")


@pytest.mark.parametrize(("typed", "error", "hint"), [
    # was 'service "web" not found in namespace "deploy"' (exit 4): deploy/ read as a namespace, and only that
    ("deploy/web", 'svcpath takes a Service, not deploy/web (and the input holds no Service "web" in namespace "deploy")',
     "--all lists the Services in the input: kubectl svcpath --all --example"),
    ("no/cp01", 'svcpath takes a Service, not no/cp01 (and the input holds no Service "cp01" in namespace "no")',
     "read node cp01's rules for a Service: kubectl svcpath SERVICE --node cp01 --example"),
    # no namespace is so named: refused before the input is read
    ("Deployment.apps/web", "svcpath takes a Service, not Deployment.apps/web",
     "--all lists the Services in the input: kubectl svcpath --all --example"),
    # kubectl takes no DNS name either (services "web.shop" not found): the name and namespace it holds
    ("svc/web.shop", 'a Service name has no dots: "web.shop" reads as a DNS name',
     "Service web in namespace shop: kubectl svcpath web -n shop --example"),
    ("web.shop.svc.cluster.local", 'a Service name has no dots: "web.shop.svc.cluster.local" reads as a DNS name',
     "Service web in namespace shop: kubectl svcpath web -n shop --example"),
])
def test_another_kind_or_a_dns_name_offline_is_one_usage_line_with_the_command_to_run(typed: str, error: str, hint: str) -> None:
    code, out, err = svcpath(typed, "--example")
    assert (code, out, err) == (2, "", f"error: {error}\nhint: {hint}\n")


def test_a_kind_word_that_names_a_namespace_of_the_input_is_that_namespace(tmp_path) -> None:
    """--all prints NAMESPACE/NAME, and microk8s runs its ingress controller in namespace "ingress": ingress/NAME
    copied from it is that Service, not kubectl's Ingress NAME."""
    text = (EXAMPLE / "iptables-save-on-node-host.txt").read_text().replace("default/hello-service", "ingress/hello-service")
    code, out, err = svcpath_on(tmp_path, text, "ingress/hello-service")
    assert (code, err) == (0, "") and "Service:  ingress/hello-service" in out
    code, _, err = svcpath_on(tmp_path, text, "ingress/hello-service", "-n", "default")  # -n: kubectl's TYPE/NAME
    assert (code, err.splitlines()[0]) == (2, "error: svcpath takes a Service, not ingress/hello-service")


def test_the_files_of_an_offline_run_are_named_in_the_hint(tmp_path) -> None:
    code, _, err = svcpath("deploy/web", "--rules-file", str(tmp_path / "node 1.txt"), "-n", "shop")
    assert code == 2 and err.splitlines()[1] == f"hint: --all lists the Services in the input: kubectl svcpath --all --rules-file '{tmp_path}/node 1.txt'"


def test_an_ipvs_entry_asked_for_offline_is_not_taken_for_a_dns_name() -> None:
    """Dump-only entries are asked for as --all lists them ('TCP 10.96.0.10:53', an address): no dots rule there."""
    code, _, err = svcpath("TCP 10.96.0.10:53", "--example")
    assert code == 4 and err.startswith('error: service "TCP 10.96.0.10:53" not found')


@pytest.mark.parametrize(("args", "hint"), [
    (["deploy", "web", "-n", "shop"], "a Service fronts the pods its SELECTOR matches: kubectl get svc -n shop -o wide, "
                                      "kubectl get pods -n shop --show-labels; then kubectl svcpath SERVICE -n shop"),
    (["node", "cp01", "--rules-file=a.txt", "-f", "b.txt"],
     "read node cp01's rules for a Service: kubectl svcpath SERVICE --node cp01 --rules-file a.txt --rules-file b.txt"),
])
def test_kubectl_get_habit_of_another_kind_gets_that_kinds_hint(args: list[str], hint: str) -> None:
    """`kubectl svcpath deploy web` (kubectl get deploy web) said only "see 'kubectl svcpath --help'"."""
    code, out, err = svcpath(*args)
    assert (code, out) == (2, "")
    assert err.splitlines() == [f'error: unexpected argument "{args[1]}": kubectl svcpath takes one Service (NAME, '
                                "svc/NAME or NAMESPACE/NAME)", f"hint: {hint}"]
