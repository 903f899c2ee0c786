"""What a pasted grep command selected: the words its lines had to hold.

``iptables-save | grep KUBE-SEP-X`` prints, of a service chain, the one jump to that endpoint: the same
lines a grep of a one-endpoint Service prints. The command line above the output tells them apart: a
word that only an endpoint's own part of a rule holds (its chain, its "-> address" comment) picked that
rule alone, and the chain's other jumps were not printed. Only greps read here are plain words (fixed
strings, ``-i``, ``-w``, ``-e``, ``-E``/``\\|`` alternatives); anything else (context lines, ``-v``, a
regex, a listing without grep) leaves what the command selected unknown.
"""

from __future__ import annotations

import re
import shlex

# grep's options that change nothing here (-w: a word is also a substring; -n, -h, -H, --color: a prefix)
_HARMLESS = re.compile(r"-(?:[wnhHsFiE]+|-color(?:=\w+)?|-line-number|-fixed-strings|-ignore-case|-word-regexp)$")
_META = re.compile(r"[\\\[\]*+?^$(){}]")  # a regex, not a word ("." is any character: taken as itself)

# one command: its grep stages; each stage: its alternatives (a line passes a stage holding any of them)
Selection = list[list[str]]


def grep_selection(commands: list[str] | tuple[str, ...]) -> list[Selection] | None:
    """Each command's grep stages, or None when any command's selection is not read (no grep in it, an
    option or pattern not read here)."""
    if not commands:
        return None
    out: list[Selection] = []
    for command in commands:
        stages = _stages(command)
        if stages is None:
            return None
        out.append(stages)
    return out


def selects(selection: list[Selection], text: str) -> bool:
    """Some command's every grep stage holds a word ``text`` holds (case-folded where -i said so)."""
    return any(all(any(_held(word, text) for word in stage) for stage in command) for command in selection)


def _held(word: str, text: str) -> bool:
    if word.startswith("\0i"):  # (-i)
        return word[2:].lower() in text.lower()
    return word in text


def _stages(command: str) -> Selection | None:
    try:
        lexer = shlex.shlex(command.replace("\\|", "\0"), posix=True, punctuation_chars="|")
        lexer.whitespace_split = True
        tokens = list(lexer)
    except ValueError:
        return None
    pieces: list[list[str]] = [[]]
    for token in tokens:
        if token == "|":
            pieces.append([])
        else:
            pieces[-1].append(token)
    stages: Selection = []
    for words in pieces[1:]:
        if words[:1] == ["sudo"]:
            words = words[1:]
        if not words or words[0] not in ("grep", "egrep", "fgrep"):
            return None  # (awk, sed, head …: which lines they kept is not read here)
        stage = _stage(words[1:], extended=words[0] == "egrep")
        if stage is None:
            return None
        stages.append(stage)
    return stages or None


def _stage(args: list[str], extended: bool) -> list[str] | None:
    patterns: list[str] = []
    fold = False
    i = 0
    while i < len(args):
        a = args[i]
        if a == "-e" and i + 1 < len(args):
            patterns.append(args[i + 1])
            i += 2
            continue
        if a.startswith("-") and len(a) > 1:
            if not _HARMLESS.match(a):
                return None  # (-v, -A/-B/-C context, -o, -f FILE, -P …: what it printed is not "lines holding a word")
            short = "" if a.startswith("--") else a[1:]
            fold = fold or "i" in short or a == "--ignore-case"
            extended = extended or "E" in short
            i += 1
            continue
        if patterns:
            return None  # a file name after the pattern: grep read that file, not the listing
        patterns.append(a)
        i += 1
    if not patterns or not all(patterns):
        return None
    words: list[str] = []
    for pattern in patterns:
        for alt in pattern.split("|" if extended else "\0"):
            if not alt or "\0" in alt or _META.search(alt):
                return None
            words.append("\0i" + alt if fold else alt)
    return words
