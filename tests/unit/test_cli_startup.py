"""What an offline run loads, and the flags it reads without pydantic (cli._plain_coercion, issue 11).

typer >= 0.26 checks every flag through a pydantic TypeAdapter; cli.py takes the plain values of
its str/int/bool/list flags itself and hands the rest to typer's adapter. These tests hold the
flags read so to what typer's own adapters read, and a bad value to typer's own error line.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from typing import Any

import pytest

from kubectl_svcpath import app, cli

ARGVS = [
    ["web", "-n", "shop", "-o", "json", "--port", "http", "--max-parallel", "4", "--sample", "007", "-f", "a.txt", "-f", "b.txt"],
    ["--all", "-A", "--problems", "--rules-file", "x", "--manifest", "m.yaml", "--color", "never", "-v", "3"],
    ["web", "--watch", "--interval", "500ms", "--samples", "2", "--node-ip", "10.0.0.1", "--node-ip", "10.0.0.2", "--lenient"],
    ["web", "--trace", "node", "--to", "10.0.0.1:80", "--proto", "udp", "--as", "me", "--as-group", "g1", "--request-timeout", "5s"],
]
# values that are not plain digits go to typer's adapter: whatever it makes of them, so does the CLI
OTHERS = [["web", "--sample", "1" * 30], ["web", "--sample", "-3"], ["web", "--samples", "1_0"], ["web", "-v", " 2"], ["web", "--max-parallel", "+4"]]
BAD = [["web", "--max-parallel", "x"], ["web", "-v", "2.5"]]


def _read(argv: list[str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> tuple[Any, str]:
    """The Options the command line gives (app.run not run), or the error line it prints."""
    seen: list[Any] = []
    monkeypatch.setattr(app, "run", lambda opts, env: seen.append(opts) or 0)
    with pytest.raises(SystemExit):
        cli.main(argv)
    return (seen[0] if seen else None), capsys.readouterr().err


def test_plain_flags_read_as_typers_adapters_read_them(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    from typer import core

    cli._plain_coercion()
    plain = getattr(core, "build_runtime_param", None)  # typer < 0.26 has none (make test-min runs 0.15.4)
    if not getattr(plain, "plain", False):
        pytest.skip("this typer has no pydantic adapters")
    assert plain is not None
    for argv in ARGVS + OTHERS + BAD:
        ours = _read(argv, monkeypatch, capsys)
        monkeypatch.setattr(core, "build_runtime_param", plain.typer_build)  # typer's own, pydantic and all
        monkeypatch.setattr(cli, "_plain_coercion", lambda: None)
        theirs = _read(argv, monkeypatch, capsys)
        monkeypatch.undo()
        assert ours == theirs, argv
        if argv in ARGVS + BAD:
            assert (ours[0] is None) == (argv in BAD), (argv, ours)


def _loaded_after(argv: list[str], modules: list[str]) -> tuple[list[str], str]:
    """Which of ``modules`` a fresh interpreter holds after the plugin ran ``argv`` (a report: exit 0 or 3),
    and what the run printed."""
    code = ("import sys\nfrom kubectl_svcpath.cli import main\ntry:\n"
            f"    main({argv!r})\n"
            "except SystemExit as e:\n    assert e.code in (0, 3), e.code\n"
            f"print('\\n' + repr([m for m in {modules!r} if m in sys.modules]))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    printed, _, loaded = out.stdout.rstrip().rpartition("\n")
    return ast.literal_eval(loaded), printed


def test_offline_run_loads_neither_pydantic_nor_the_kubernetes_client() -> None:
    assert _loaded_after(["--example", "-o", "json"], ["pydantic", "kubernetes", "typer"])[0] == ["typer"]


def test_an_iptables_run_does_not_load_the_nft_text_reader() -> None:
    """Format detection asks every mode whether the text is theirs: the nft question must not load nft's reader."""
    assert _loaded_after(["--example", "-o", "json"], ["kubectl_svcpath.modes.nftables.parse_text"])[0] == []


def _small_dump(tmp_path: Any) -> str:
    from tests.lab.kpgen import cluster_services, save_text

    dump = tmp_path / "nat.txt"
    dump.write_text(save_text(cluster_services(3, 2), tables=("nat",)))
    return str(dump)


def test_an_iptables_save_run_loads_no_other_reader(tmp_path: Any) -> None:
    """Format detection asks ipvsadm's and `iptables -L`'s detect modules, not their readers; an offline run
    loads neither socket (for --local) nor importlib.resources (for --example); a tool's own output is no paste,
    so the paste cleaner's ~70 patterns (parse/excerpt.py, ~12 ms to compile) do not load; nor do ipset's, nft chain
    blocks' and conntrack's readers (format detection looks for their literals first), traffic's sampling, or the
    readers of several hosts' pastes and of pasted `kubectl describe service`."""
    unused = ["kubectl_svcpath.modes.ipvs.parse", "kubectl_svcpath.modes.iptables.parse_list", "socket", "importlib.resources",
              "kubectl_svcpath.parse.excerpt", "kubectl_svcpath.modes.ipvs.ipset", "kubectl_svcpath.modes.nftables.chain_blocks",
              "kubectl_svcpath.parse.conntrack", "kubectl_svcpath.traffic", "kubectl_svcpath.parse.hosts",
              "kubectl_svcpath.parse.describe"]
    assert _loaded_after(["bench/svc-00001", "--rules-file", _small_dump(tmp_path), "-o", "json"], unused)[0] == []


def test_an_offline_all_run_loads_no_table_library(tmp_path: Any) -> None:
    """--all writes its table itself (render.audit.plain_table): tabulate, and the importlib.metadata, email
    and zipfile modules it brings (~14 ms of the start), load only for a cell outside ASCII."""
    loaded, printed = _loaded_after(["--all", "--rules-file", _small_dump(tmp_path)],
                                    ["tabulate", "importlib.metadata", "email", "zipfile", "socket"])
    assert printed.split()[:2] == ["NAMESPACE", "NAME"] and "3 Services" in printed, printed
    assert loaded == []


def test_an_offline_one_service_run_loads_no_table_library(tmp_path: Any) -> None:
    """One Service's path table is written by render.plain as --all's is: tabulate (~15 ms of the start with
    what it brings) loads only for a cell outside ASCII."""
    loaded, printed = _loaded_after(["bench/svc-00001", "--rules-file", _small_dump(tmp_path)],
                                    ["tabulate", "importlib.metadata", "email", "zipfile"])
    assert "PORT" in printed and "SERVICE-CHAIN" in printed, printed
    assert loaded == []


def test_max_parallel_says_one_default_everywhere() -> None:
    """--max-parallel's default is written where --help (cli), completion and Options read it: one number
    (cli does not import options at start-up, so a test holds them equal)."""
    import inspect

    from kubectl_svcpath import completion, options

    assert inspect.signature(cli.svcpath).parameters["max_parallel"].default == options.MAX_PARALLEL
    assert options.Options().max_parallel == options.MAX_PARALLEL
    flag = next(f for f in completion.FLAGS if f.long == "--max-parallel")
    assert f"(default {options.MAX_PARALLEL})" in flag.help
