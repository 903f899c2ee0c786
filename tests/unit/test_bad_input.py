"""Bad input never produces a traceback: one "error:" line (plus a hint), a documented exit code.

The corpus: every shared dump cut short at many places, garbage, binary data, huge lines,
wrong formats, and hostile comments written by the real iptables in a lab namespace.
"""

from __future__ import annotations

import json
import random
import re

import pytest

from kubectl_svcpath.errors import ExitCode
from tests.conftest import DUMPS, EXAMPLE, require_shared, svcpath

DOCUMENTED = {int(c) for c in ExitCode}
SAVE_DUMPS = ["upstream-iptables-proxier-test-TestOverallIPTablesRules.txt",
              "derived-netns-iptables-nft-save-from-upstream-TestOverallIPTablesRules.txt",
              "repo-blog-flannel-k8s-master-iptables-save.txt"]
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def assert_clean_failure(code: int, out: str, err: str, expected: set[int] | None = None) -> None:
    assert "Traceback" not in err and "Traceback" not in out
    assert code in DOCUMENTED, code
    if expected is not None:
        assert code in expected, (code, err)
    if code not in (0, ExitCode.PROBLEMS_FOUND):
        lines = err.splitlines()
        assert lines and lines[0].startswith("error: "), err
        assert len(lines) <= 2 and all(l.startswith(("error: ", "hint: ")) for l in lines), err
    assert not _CONTROL.search(err) and not _CONTROL.search(out.replace("\t", "")), "control characters reached the terminal"


def _cuts(text: str) -> list[str]:
    lines = text.splitlines(keepends=True)
    cuts = ["".join(lines[:k]) for k in range(max(1, len(lines) - 20), len(lines))]  # every line boundary near the end
    cuts += [text[: len(text) * i // 12] for i in range(1, 12)]  # evenly spaced byte offsets
    return [c for c in cuts if c.strip()]


@pytest.mark.parametrize("dump", SAVE_DUMPS)
def test_truncated_dumps_are_refused_with_the_line(dump: str, tmp_path) -> None:
    require_shared()
    text = (DUMPS / dump).read_text()
    for i, cut in enumerate(_cuts(text)):
        f = tmp_path / f"cut{i}.txt"
        f.write_text(cut)
        code, out, err = svcpath("--rules-file", str(f), "--all")
        complete = [l for l in cut.splitlines() if l.strip() and not l.startswith("#")][-1:] == ["COMMIT"]
        if complete:  # cut right after a table's COMMIT: a whole, shorter dump
            assert_clean_failure(code, out, err, {ExitCode.OK, ExitCode.PROBLEMS_FOUND})
            continue
        assert_clean_failure(code, out, err, {ExitCode.BAD_DUMP})
        assert str(f) in err and ("no COMMIT" in err or "truncated" in err or "not an iptables-save line" in err), err


def test_truncated_dump_with_lenient_still_answers(tmp_path) -> None:
    text = (EXAMPLE / "iptables-save-in-kube-proxy-pod.txt").read_text()
    f = tmp_path / "cut.txt"
    f.write_text(text[: text.index("COMMIT")])
    code, out, err = svcpath("hello-service", "--rules-file", str(f), "--manifest", str(EXAMPLE / "manifest.yaml"), "--lenient", "-o", "json")
    assert code in (0, 3), err
    doc = json.loads(out)
    assert any("no COMMIT" in n for n in doc["notes"])


GARBAGE = {
    "empty": b"",
    "blank": b"\n\n   \n",
    "prose": b"hello, this is not a dump\nat all\n",
    "binary": bytes(random.Random(7).randrange(256) for _ in range(4096)),
    "nul-in-text": b"*nat\n-A KUBE-SERVICES -j KUBE-SVC-X\x00\nCOMMIT\n",
    "huge-line": b"*nat\n-A KUBE-SERVICES " + b"-m comment --comment x " * 5000 + b"\nCOMMIT\n",
    "unterminated-quote": b"*nat\n:KUBE-SERVICES - [0:0]\n-A KUBE-SERVICES -m comment --comment \"oops -j KUBE-SVC-X\nCOMMIT\n",
    "json-garbage": b"{\"nftables\": [",
    "json-not-nft": b"{\"kind\": \"List\"}",
    "commit-outside": b"COMMIT\n",
    "bad-probability": b"*nat\n-A KUBE-SVC-X -m statistic --mode random --probability zero -j KUBE-SEP-Y\nCOMMIT\n",
    "jump-without-target": b"*nat\n-A KUBE-SERVICES -j\nCOMMIT\n",
}


@pytest.mark.parametrize("name", sorted(GARBAGE))
def test_garbage_is_one_clear_line(name: str, tmp_path) -> None:
    f = tmp_path / f"{name}.txt"
    f.write_bytes(GARBAGE[name])
    code, out, err = svcpath("web", "--rules-file", str(f))
    assert_clean_failure(code, out, err, {ExitCode.BAD_DUMP})
    assert str(f) in err


@pytest.mark.parametrize("name,said", [("empty", "empty: no rules in it"), ("blank", "holds only blank lines: no rules in it")])
def test_an_empty_dump_is_called_empty(name: str, said: str, tmp_path) -> None:
    """`iptables-save > f` run without root writes nothing (its error goes to the terminal): the file is
    called empty, with what to do, not "not a rule dump"; the same beside a dump that is read."""
    f = tmp_path / f"{name}.txt"
    f.write_bytes(GARBAGE[name])
    for extra in ([], ["--rules-file", str(EXAMPLE / "iptables-save-in-kube-proxy-pod.txt")]):
        code, out, err = svcpath("hello-service", *extra, "--rules-file", str(f))
        assert_clean_failure(code, out, err, {ExitCode.BAD_DUMP})
        assert err.splitlines()[0] == f"error: {f}: {said}", err
        assert "sudo iptables-save -c" in err


def test_manifest_given_as_rules_and_garbage_manifest(tmp_path) -> None:
    code, out, err = svcpath("hello-service", "--rules-file", str(EXAMPLE / "manifest.yaml"))
    assert_clean_failure(code, out, err, {ExitCode.BAD_DUMP})
    bad = tmp_path / "m.yaml"
    bad.write_text("kind: [unclosed\n")
    code, out, err = svcpath("hello-service", "--rules-file", str(EXAMPLE / "iptables-save-in-kube-proxy-pod.txt"), "--manifest", str(bad))
    assert_clean_failure(code, out, err, {ExitCode.BAD_DUMP})
    code, out, err = svcpath("hello-service", "--rules-file", str(EXAMPLE / "iptables-save-in-kube-proxy-pod.txt"), "--manifest", str(EXAMPLE / "iptables-save-in-kube-proxy-pod.txt"))
    assert_clean_failure(code, out, err, {ExitCode.BAD_DUMP})


def test_missing_file_and_missing_service() -> None:
    code, out, err = svcpath("web", "--rules-file", "/nonexistent/dump.txt")
    assert_clean_failure(code, out, err, {ExitCode.NOT_FOUND})
    code, out, err = svcpath("nope", "--rules-file", str(EXAMPLE / "iptables-save-in-kube-proxy-pod.txt"),
                             "--manifest", str(EXAMPLE / "manifest.yaml"))
    assert_clean_failure(code, out, err, {ExitCode.NOT_FOUND})
    assert err.startswith('error: service "nope" not found')
    code, out, err = svcpath("nope", "--rules-file", str(EXAMPLE / "iptables-save-in-kube-proxy-pod.txt"))
    assert_clean_failure(code, out, err, {ExitCode.NOT_FOUND})


@pytest.mark.parametrize("args", [
    ["-o", "xml", "web", "--rules-file", "x"],
    ["--bogus"],
    ["web", "--rules-file", "a", "--local"],
    [],
    ["--all", "web"],  # (--all alone is the live audit of the context's namespace)
    ["a/b/c", "--rules-file", "x"],
    ["web", "--request-timeout", "soon"],
    ["web", "--all-nodes", "--node", "n1"],
])
def test_usage_errors(args: list[str]) -> None:
    code, out, err = svcpath(*args)
    assert_clean_failure(code, out, err, {ExitCode.USAGE})


def test_no_service_named_says_the_three_ways_in() -> None:
    """With nothing named: a Service, the live or offline --all audit, or the bundled example."""
    code, out, err = svcpath()
    assert_clean_failure(code, out, err, {ExitCode.USAGE})
    assert err.splitlines()[0] == ("error: name a Service (kubectl svcpath NAME), or audit every Service with --all "
                                   "(-A: every namespace), or try --example")


def test_unknown_proxy_mode_is_unsupported() -> None:
    code, out, err = svcpath("hello-service", "--rules-file", str(EXAMPLE / "iptables-save-in-kube-proxy-pod.txt"),
                             "--proxy-mode", "kernelspace")
    assert_clean_failure(code, out, err, {ExitCode.UNSUPPORTED})
    assert "kernelspace" in err


HOSTILE = [
    "\x1b[31mred\x1b[0m and \x1b]0;title\x07",  # colour and a terminal-title escape
    "carriage\rreturn",
    "c1 \x9b31m csi",
    'quote " and backslash \\ and \'single\'',
    "bidi \u202e reversed",
]


def _hostile_dump() -> str:
    rules = ["*nat", ":KUBE-SERVICES - [0:0]", ":KUBE-SVC-AAAAAAAAAAAAAAAA - [0:0]", ":KUBE-SEP-BBBBBBBBBBBBBBBB - [0:0]"]
    for i, c in enumerate(HOSTILE):
        esc = c.replace("\\", "\\\\").replace('"', '\\"')
        rules.append(f'[{i}:{i * 60}] -A KUBE-SERVICES -d 10.0.0.{i + 1}/32 -p tcp -m comment --comment "{esc}" -m tcp --dport 80 -j KUBE-SVC-AAAAAAAAAAAAAAAA')
    rules += ['-A KUBE-SVC-AAAAAAAAAAAAAAAA -m comment --comment "ns/x\x1b[2J:p -> 10.1.1.1:80" -j KUBE-SEP-BBBBBBBBBBBBBBBB',
              '-A KUBE-SEP-BBBBBBBBBBBBBBBB -p tcp -m tcp -j DNAT --to-destination 10.1.1.1:80', "COMMIT", ""]
    return "\n".join(rules)


@pytest.mark.parametrize("fmt", ["table", "wide", "tree", "json", "yaml"])
def test_hostile_comments_never_reach_the_terminal(fmt: str, tmp_path) -> None:
    f = tmp_path / "hostile.txt"
    f.write_text(_hostile_dump())
    for args in (["--all"], ["x", "-n", "ns"]):
        code, out, err = svcpath("--rules-file", str(f), *args, "-o", fmt, "--color", "never")
        assert_clean_failure(code, out, err)
        assert "\x1b" not in out and "\x9b" not in out and "\r" not in out and "\u202e" not in out


def test_tokenizer_decodes_what_iptables_escapes() -> None:
    from kubectl_svcpath.parse.tokens import split_words

    assert split_words('-m comment --comment "a \\"b\\" \\\\c" -j X') == ["-m", "comment", "--comment", 'a "b" \\c', "-j", "X"]
    assert split_words("--comment 'single' x") == ["--comment", "'single'", "x"]  # no shell quoting
    assert split_words('--comment foo"bar baz"qux') == ["--comment", "foobar bazqux"]


def test_a_long_unreadable_line_is_cut_with_an_ellipsis_not_its_escape(tmp_path) -> None:
    """The line's own text is escaped (untrusted); the "…" that says it was cut is the tool's: printed as is."""
    f = tmp_path / "dump.txt"
    f.write_text("*nat\n:KUBE-SERVICES - [0:0]\nthis line is prose that somebody pasted between the rules, far too long\nCOMMIT\n")
    code, out, err = svcpath("web", "--rules-file", str(f))
    assert_clean_failure(code, out, err, {ExitCode.BAD_DUMP})
    assert "not an iptables-save line: this line is prose that somebody pasted between the rules, f…\n" in err, err
    assert "\\u2026" not in err


@pytest.mark.parametrize(("args", "message"), [
    (["--example", "--all", "--port", "port-v1"], "--port shows one port of one Service: it does not go with --all (name the Service instead)"),
    (["--rules-file", str(EXAMPLE / "iptables-save-in-kube-proxy-pod.txt"), "--all", "--since",
      str(EXAMPLE / "iptables-save-on-node-host.txt")], "--since shows one Service's traffic between two dumps: it does not go with --all"),
    (["hello-service", "--rules-file", str(EXAMPLE / "iptables-save-in-kube-proxy-pod.txt"), "--trace", "10.1.2.3", "--since",
      str(EXAMPLE / "iptables-save-on-node-host.txt")], "--since shows one Service's traffic between two dumps: it does not go with --trace"),
])
def test_a_flag_the_run_would_ignore_is_a_usage_error(args: list[str], message: str) -> None:
    """--port with --all listed every port; --since with --all or --trace printed the audit or the trace without a word
    of the traffic asked for: each was taken and ignored."""
    code, out, err = svcpath(*args)
    assert_clean_failure(code, out, err, {ExitCode.USAGE})
    assert err.splitlines()[0] == f"error: {message}", err


def test_a_rule_dump_passed_as_the_manifest_is_named_so() -> None:
    """The two files swapped (--manifest rules.txt): iptables-save's `*nat` read as a YAML alias ('not a JSON or YAML
    manifest (ComposerError: found undefined alias)'), nft -j's JSON as 'no Service object in the manifest'. Now the
    error says it is a rule dump and which flag takes it."""
    from tests.conftest import DUMPS, EXAMPLE, svcpath

    save = str(EXAMPLE / "iptables-save-on-node-host.txt")
    for dump, form in ((save, "iptables-save"), (str(EXAMPLE / "nft-list-table-ip-nat.json"), "nft-json"),
                       (str(DUMPS / "repo-k3s-nft-list-table-ip-kube-proxy.txt"), "nft-text")):
        code, out, err = svcpath("hello-service", "--rules-file", save, "--manifest", dump)
        assert (code, out, err) == (8, "", f"error: {dump}: a rule dump ({form}), not a manifest\nhint: pass it with "
                                           "--rules-file; --manifest takes what `kubectl get service,endpointslices -o "
                                           "yaml` prints\n"), err


def test_a_manifest_passed_as_the_rules_is_named_so() -> None:
    """--rules-file svc.yaml (the files swapped, or the manifest alone): 'not a rule dump this tool can read' with a
    list of rule forms. Now it says it is a manifest and which flag takes it (JSON manifests already were)."""
    from tests.conftest import EXAMPLE, svcpath

    manifest = str(EXAMPLE / "manifest.yaml")
    code, out, err = svcpath("hello-service", "--rules-file", manifest)
    assert (code, out, err) == (8, "", f"error: {manifest}: a Kubernetes manifest (apiVersion, kind), not a rule dump\n"
                                       "hint: pass it with --manifest; --rules-file takes iptables-save, nft list or "
                                       "ipvsadm -Ln output\n"), err
