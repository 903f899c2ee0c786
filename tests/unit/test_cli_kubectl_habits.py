"""kubectl's habits that svcpath's one SERVICE argument does not take: say how to write them."""

from __future__ import annotations

import pytest

from tests.conftest import svcpath


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
