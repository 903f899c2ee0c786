"""--request-timeout (and --watch/--interval) take what kubectl takes: client-go's ParseTimeout, a bare number of
seconds or a Go duration (time.ParseDuration: 1m30s, 1h30m, 2.5m). '1m30s' was refused (exit 2)."""

from __future__ import annotations

import pytest

from kubectl_svcpath.errors import UsageError
from kubectl_svcpath.options import parse_timeout
from tests.conftest import svcpath


@pytest.mark.parametrize("value,seconds", [
    ("30", 30.0), ("0", None), ("0s", None), ("500ms", 0.5), ("2m", 120.0), ("1m30s", 90.0), ("1h30m", 5400.0),
    ("2.5m", 150.0), ("1.5", 1.5), ("1500us", 0.0015), ("1s500ms", 1.5),
])
def test_go_durations_as_kubectl_reads_them(value, seconds):
    assert parse_timeout(value) == pytest.approx(seconds) if seconds is not None else parse_timeout(value) is None


@pytest.mark.parametrize("value", ["-1", "abc", "1d", "m", "1m30", "30 s", "1.2.3s"])
def test_what_kubectl_refuses_is_refused(value):
    with pytest.raises(UsageError, match="use a duration such as 5s, 1m, 1m30s or 0 for none"):
        parse_timeout(value)


def test_a_compound_duration_is_taken_on_the_command_line():
    assert svcpath("--example", "--request-timeout", "1m30s")[0] == 0
    # --watch 1m30s is the interval, not a Service called "1m30s" (what it was, then refused: not live)
    code, _, err = svcpath("--example", "--watch", "1m30s")
    assert code == 2 and err.startswith("error: --watch reads the rules again and again"), err
    code, _, err = svcpath("hello-service", "--watch", "1m30s", "--local", "--manifest", "/nonexistent.yaml")
    assert "1m30s" not in err, err


def test_help_says_what_live_mode_does() -> None:
    """--help's --node default stopped at 'the node of a ready endpoint'; a Service without one reads the first
    Ready node (README, live.py's _pick_node)."""
    code, out, _ = svcpath("--help")
    text = " ".join(out.split())
    assert code == 0
    assert "Node whose rules to read (default: the node of a ready endpoint, else the first Ready node)" in text
    assert "Timeout for each API request and exec (1s, 2m, 1m30s; 0 for none) [default: 30s]" in text
