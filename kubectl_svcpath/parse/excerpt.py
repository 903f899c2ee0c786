"""What people do to a dump before they paste it: cut it, mark the cuts, put their prompts, commands, notes and
other commands' output around it, and save it with a BOM; and the notes that say what was set aside.

Authors of issues and answers shorten rule listings and mark where they cut (``...``,
``......``, ``…``, ``[snip]``, ``<truncated>``, ``-- more --``). Such a line is no rule:
it is dropped here (its line number kept, so evidence still points at the right line), and
the dump is recorded as an *excerpt*: whatever it does not show may exist, so nothing may be
claimed absent from it. A UTF-8 byte-order mark, which Windows editors put at the start of a
saved paste, is dropped too, and so is an indentation every line shares (a dump quoted inside
code, a Markdown list or an e-mail: the text of kube-proxy's own test expectations is tab-indented).

Also blanked (each with a note, ``*_note``): the prompts and listing commands above each output, other
commands' output (``kubectl get``, logs, ``ip addr``), Markdown around the rules, the author's arrows and notes
on a rule line, kube-proxy's logged restore input read as that input, the earlier runs of a listing run twice,
and ip6tables output beside iptables output (``family_note``). ``json_excerpt`` reads ``nft -j … | jq .`` cut
with ``...``.

Mode-agnostic: every text parser reads the cleaned text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from kubectl_svcpath.parse.grep_words import grep_selection, selects
from kubectl_svcpath.parse.possessive import compile_possessive
# (the prompt, command and prose patterns of a pasted dump's first lines: parse/prompts.py, which a tool's own
# output loads without this module)
from kubectl_svcpath.parse.prompts import (COMMAND as _COMMAND, KUBECTL_TABLE as _KUBECTL_TABLE, OWN_WORDS as _OWN_WORDS,
                                           PROMPT as _PROMPT, PROSE as _PROSE, RULE_TOOL as _RULE_TOOL, TOOLS as _TOOLS, head_commands)
from kubectl_svcpath.wording import line_spans, numbered, numbered_spans, times

# a whole line that only marks a cut: dots (ASCII or the ellipsis character), bracketed or
# angle-bracketed words authors use, and "... N more lines ..." style notes
_ELISION = re.compile(
    r"""^\s*(?:
        (?:\.{3,}|…+)\s*(?:[\[(<]?[\w ,.'-]{0,60}[\])>]?\s*(?:\.{3,}|…+)?)?\s*[}\]]?   # ...  ......  … 200 more lines …  ... }
      | \.(?:[ \t]\.){2,}                                                 # . . .
      | [\[(<]\s*(?:\.{3,}|…|snip(?:ped)?|truncated|cut|omitted|elided|trimmed|more|redacted)
            [\w ,.'-]{0,60}[\])>]                                          # [snip] <truncated> (...) [...]
      | (?:snip(?:ped)?|truncated|omitted)\s*[.…]*                           # snip  truncated...
      | --(?:\s*(?:more|snip|cut)?\s*--)?                                  # -- more --, and grep's group separator "--"
      | \*{3,} | _{3,}                                                     # a Markdown rule between the author's pieces
    )\s*$""",
    re.X | re.I,
)


class _LineLed:
    """``re.compile("(?:^|\\n)" + body).search`` led by a literal newline instead: the regex engine finds a
    literal at C speed, where ``^|\\n`` had it try the pattern at every position of the text (0.1-0.25 s
    each on a 10 MB nft listing, which every input that is not iptables-save's own output went through)."""

    def __init__(self, body: str) -> None:
        self._first = re.compile(body)
        self._later = re.compile("\n" + body)

    def search(self, text: str, pos: int = 0) -> re.Match[str] | None:
        return (self._first.match(text) if pos == 0 else None) or self._later.search(text, pos)


# the prompt alone, the command's output done ("ubuntu@vm1:~$ ", "[root@node ~]#"): ends many pasted runs;
# and sudo's own prompt under a command ("[sudo] password for lab:"), printed before the command's output
_BARE_PROMPT = re.compile(r"^\s*(?:\u279c\s+)?(?:(?:\[[^\]\n]{0,80}\]|[\w.-]+@[\w.-]+[ \t]+[~/][\w.:~/-]*[ \t]|[\w.-]+@[\w.:~/-]*|[~/][\w.:~/-]*[ \t])[$#%]|"
                          r"\[sudo\] password for [^:\n]{1,64}:)\s*$")
# an arrow the author put before a line to point at it ("--> 9   540 KUBE-MARK-MASQ …", "==> -A KUBE-SVC-…"):
# not the tool's; the line is read without it, the arrow blanked so that -L columns stay where they were
_MARK = re.compile(r"^[ \t]*(?:-{1,3}|={1,3})>[ \t]+(?=\S)")
# "--> -A KUBE-SVC-…": an arrow leading a line; not ipvsadm's own "  -> 10.244.1.5:8080  Masq …" (a real server, and
# its column heads "  -> RemoteAddress:Port"), which start every other line of a listing and are never marked rules
_ARROW_LINE = _LineLed(r"[ \t]*(?:-{1,3}|={1,3})>[ \t](?![ \t]*(?:\[?[0-9A-Fa-f.:]+\]?:\d+|RemoteAddress:Port)[ \t])")
# the arrows authors draw after a rule to point at it or number it: "<--", "<<", "<==", "==>", "-->", ">> [1]"
_ARROWS = r"<-{1,3}|<{2,3}|<={1,3}|={1,3}>|-{2,3}>|>{2,3}"
_NOTE_MARK = re.compile(rf" (?://|{_ARROWS}|\u2190)(?:[ \t]|$)")
# the author's note after a rule ("… --to-destination 10.1.2.3:80 // here is", "-j KUBE-SEP-X  <-- this one"), outside
# quotes: cut off (iptables prints neither; a "#" note is cut by the readers themselves, parse_save.cut_annotation)
_NOTE_AFTER_RULE = re.compile(rf"[ \t]+(?://|{_ARROWS}|\u2190)(?=[ \t]|$)")
# Markdown emphasis around a rule line that spans several lines ("***-A KUBE-SEP-…" … "# note***", a Notion export)
_MD_EDGE = re.compile(r"^([ \t]*)\*{1,3}(?=(?:\[\d+:\d+\][ \t]*)?-[ANIX][ \t]+\S)")
_MD_TAIL = re.compile(r"(?<=[^\s*])\*{1,3}[ \t\r]*$")
# Markdown notes kept as a file: a line of bold prose ("**what this rule does:**"), and a rule line with
# words in bold ("-A **PREROUTING** … -j **KUBE-SERVICES**"); the bold marks are the author's, not iptables'
_MD_BOLD_LINE = re.compile(r"^[ \t]*\*\*[^*\n].*\*\*[ \t\r]*$")
_MD_BOLD_WORD = re.compile(r"\*\*([^*\s]+)\*\*")
# a line in Markdown italics ("*The nat table*", "*output trimmed*", "*nat*"): never iptables' (a table header is
# "*nat", nothing after it; an italic rule line lost its marks in _unmark already)
_MD_ITALIC_LINE = re.compile(r"^[ \t]*\*(?!\*)([^*\s](?:[^*\n]*[^*\s])?)\*[ \t\r]*$")
_ANY_ITALIC_LINE = _LineLed(r"[ \t]*\*[^*\s\n](?:[^*\n]*[^*\s\n])?\*[ \t]*\r?(?:\n|$)")
_TABLE_WORD = re.compile(r"filter|nat|mangle|raw|security")
# a Markdown code fence around the rules ("```sh" … "```"): the notes' own, a comment
# (a "\r" before the line's end: notes saved with Windows line ends)
_MD_FENCE = re.compile(r"^[ \t]*```[\w+-]*[ \t\r]*$")
# a command whose output is no rule listing ("$ kubectl logs …", "# ip addr", "$ kubectl get svc"): its
# output, down to the next prompt, is left out with a note. Never a line naming a rule tool ("kubectl exec
# kube-proxy-x -- iptables-save", "ssh node sudo iptables-save | grep -n …"), and not an alias ("$ ipt
# KUBE-SERVICES" in tkng.io is iptables -t nat -nvL): only these well-known commands
# (run in a network namespace: "ip netns exec cni-… arp -n", a pod's; the command's output is still no rule listing)
_OTHER_COMMAND = re.compile(
    r"^(?:\([^()\n]{0,40}\)\s*)?(?:sudo\s+)?(?:ip\s+netns\s+exec\s+\S+\s+)?(?:(?:kubectl|k)\s+(?:-n\s+\S+\s+)?(?:logs|get|describe|apply|create|delete|edit|scale|rollout|top|version|exec|"
    r"cluster-info|config|explain|run|expose|patch|label|annotate|wait)|ip\s+(?:-\w+\s+)*(?:a|addr|address|r|route|l|link|n|neigh|rule)|ss|netstat|curl|wget|"
    r"ping|dig|nslookup|journalctl|systemctl|docker\s+(?:ps|logs|images|inspect)|crictl\s+(?:ps|pods|logs|inspect)|helm|az|aws|gcloud|eksctl|"
    r"[A-Za-z_]\w*=\$\(|"
    r"tcpdump|uname|hostname|ls|sysctl|lsmod|route|arp|minikube|for\s+\w+\s+in)\b")
# what kubectl itself prints on stderr around an exec's (or a node debug pod's) output: never the pod's ("Unable to use
# a TTY - input is not a terminal or the right kind of file" for -t under a pipe, the container it picked, the command's
# exit status; `kubectl debug node/N`'s "Creating debugging pod node-debugger-N-x with container debugger on node N.",
# "If you don't see a command prompt, try pressing enter.", "--profile=legacy is deprecated …")
_KUBECTL_SAYS = re.compile(r"^[ \t]*(?:Unable to use a TTY - input is not a terminal|Defaulted container \"|"
                           r"command terminated with exit code \d+[ \t\r]*$|Creating debugging pod \S+ with container \S+ on node |"
                           r"If you don't see a command prompt, try pressing enter\.|--profile=legacy is deprecated )")
# a log line pasted with the rules: klog's ("I0330 09:28:56.497083       1 proxier.go:1570] …", kube-proxy's own log)
# or journald's ("Nov 14 11:06:11 node1 kube-proxy[12085]: -A KUBE-SVC-…": kube-proxy logs the restore input it
# tried, which tells nothing of what the kernel holds); left out, never read as rules
_JOURNALD = r"[A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d \S+ [\w./-]+(?:\[\d+\])?: "
_KLOG = r"[IWEF]\d{4} \d\d:\d\d:\d\d\.\d{6} +\d+ [\w.-]+:\d+\] "
_LOG_LINE = re.compile(rf"^[ \t]*(?:{_KLOG}|{_JOURNALD})")
_ANY_LOG_LINE = _LineLed(rf"[ \t]*(?:[IWEF]\d{{4}} \d\d:\d\d:\d\d\.\d{{6}} |{_JOURNALD})")  # (klog's head: enough to look closer)
LOG = "a log (klog or journald lines)"
# kube-proxy's log of the iptables-restore input it writes (-v=5 before 1.21: "I0413 17:26:42.526157  5 proxier.go:938]
# Restoring iptables rules: *filter" then the input's lines as they are; klog's structured form: '"Restoring iptables"
# rules=<' then each line behind a tab, up to " >"), each line maybe behind journald's prefix
_RESTORE_START = re.compile(rf"[ \t]*(?P<journald>{_JOURNALD})?{_KLOG}(?:Restoring iptables rules: (?P<table>\*[a-z]+)|"
                            r'"Restoring iptables" rules=(?P<open><))[ \t\r]*')
_JOURNALD_PREFIX = re.compile(rf"[ \t]*{_JOURNALD}")
_KLOG_LINE = re.compile(rf"[ \t]*{_KLOG}")
_RESTORE_FAILED = re.compile(rf"[ \t]*(?:{_JOURNALD})?{_KLOG}\"?Failed to execute iptables-restore")
TABLE = "a kubectl get table"
# a listing command whose output holds no blank line (iptables-save, iptables -S, a grep of either): after its
# output and a blank line, the lines that are no rule before the next command are the author's words
_SAVE_FORM = re.compile(r"\bip6?tables(?:-legacy|-nft)?-save\b|\bip6?tables(?:-legacy|-nft)?\s(?:.*\s)?(?:-[a-zA-Z]*S|--list-rules)\b")
WORDS = "the author's words after a listing's output"
# iptables-nft's notice without its "# " (a Markdown heading copied as text): "Warning: iptables-legacy tables present, …"
_LEGACY_WARNING = re.compile(r"Warning: ip6?tables-legacy tables present")
# iptables-save's own comment lines without their "# " (notes that quote a dump line by line): comments again
_SAVE_COMMENT = re.compile(r"[ \t]*(?:Generated by ip6?tables(?:-nft|-legacy)?-save v\S+ on |Completed on )")
# the first line of a rule listing of any form: never another command's output
_RULE_START = re.compile(r"^\s*(?:\d+:)*(?:\[\d+:\d+\]\s*)?(?:-[ANIX]\s+\S|:\S+\s+\S+\s+\[|\*[a-z]+\s*$|COMMIT\s*$|Chain\s+\S+\s+\(|"
                         r"table\s+\w+\s+\S+\s*\{|IP Virtual Server|Prot LocalAddress|(?:TCP|UDP|SCTP)\s+\S+:\d+)")
# a line of iptables-save's shapes a grep prints: a rule ("[p:b] " counters optional) or a chain declaration
_SAVE_SHAPED = re.compile(r"[ \t]*(?:\[\d+:\d+\][ \t]*)?-A[ \t]+\S|[ \t]*:[A-Z]\S*[ \t]+\S+[ \t]+\[")
_ANY_SAVE_SHAPED = _LineLed(r"[ \t]*(?:\[\d+:\d+\][ \t]*)?-A[ \t]+\S")
_NEW_CHAIN = _LineLed(r"[ \t]*-N[ \t]")
_NEW_CHAIN_LINE = re.compile(r"[ \t]*-N[ \t]+(\S+)[ \t\r]*$")
_TABLE_LINE = _LineLed(r"[ \t]*\*[a-z]+[ \t]*\r?(?:\n|$)")
# a row of iptables -L -v: packets and bytes (K/M/G suffixes unless -x), then the target
_LIST_ROW = re.compile(r"\s*\d+[KMGT]?\s+\d+[KMGT]?\s+\S")


# a listing command's own failure printed under it ("iptables v1.8.7 (legacy): can't initialize iptables table
# `nat': Permission denied (you must be root)", "bash: nft: command not found")
_COMMAND_FAILED = re.compile(r"(?i)permission denied|must be root|command not found|no such file|can't initialize|"
                             r"operation not permitted|not found|unknown option|invalid option|bad argument|try `|kernel needs to be upgraded")


def commands_without_output(text: str) -> tuple[list[str], list[str], bool] | None:
    """A paste of the rule listing command alone (the author copied the command, not what it printed), or with
    only the command's error: (the commands, the error lines, whether the shell's prompt came back after the
    last command: it printed nothing). None when it holds anything else (``text`` as cleaned: a command line
    may already be a "# " comment)."""
    commands: list[str] = []
    errors: list[str] = []
    ended = False
    for raw in text[:65536].split("\n")[:100]:
        line = raw.strip()
        if not line or line in ("#", "$"):
            continue
        bare = line if _BARE_PROMPT.match(line) else line.removeprefix("# ") if _BARE_PROMPT.match(line.removeprefix("# ")) else None
        if bare is not None:
            ended = ended or (bool(commands) and not bare.startswith("[sudo]"))
            continue
        if _COMMAND_FAILED.search(line):
            errors.append(line.removeprefix("# "))
            continue
        command = _listing_command(line)
        if command is None:
            return None
        commands.append(command)
        ended = False
    return (commands, errors, ended) if commands else None


def _listing_command(line: str) -> str | None:
    """The command of a line that runs a rule listing (after a prompt or not, made a "# " comment or not)."""
    for body in dict.fromkeys((line, line.removeprefix("#").strip())):
        m = _PROMPT.match(body)
        command = body[m.end() - 1:].strip() if m else body
        if (_COMMAND.match(command) or command.startswith(("ssh ", "sudo "))) and _RULE_TOOL.search(command):
            return command
    return None


@dataclass(slots=True)
class Cleaned:
    text: str
    elisions: list[int] = field(default_factory=list)  # 1-based line numbers of the cut marks
    bom: bool = False
    commands: list[int] = field(default_factory=list)  # prompt, command and prose lines made "# " comments
    dedented: bool = False  # an indentation shared by every line was removed
    # another command's output under its own prompt, emptied: (first line, last line, the command)
    left_out: list[tuple[int, int, str]] = field(default_factory=list)
    save_lines: bool = False  # every line but the first is of iptables-save's shapes (none is a cut or a prompt)
    marked: list[int] = field(default_factory=list)  # rule lines the author pointed at with an arrow, read without it
    # a rule or declaration line an earlier command of the paste printed already (a walk of greps over one
    # dump prints a rule under each name it holds): one rule, read once, not a duplicate in the chain
    repeated: list[int] = field(default_factory=list)
    # `iptables -S CHAIN` run again later in the paste (before and after a change): (chain, the lines of
    # each listing's -N, the lines of the earlier listings left out); only the last listing is read
    relisted: list[tuple[str, list[int], list[int]]] = field(default_factory=list)
    # a paste of nothing but "# " lines (the output kept as shell comments under its command): the lines whose
    # text without the "# " is a listing's, read so
    uncommented: list[int] = field(default_factory=list)
    # the same listing command run again later in the paste (two moments: before and after a change): (the
    # command, the line of its last run, the lines of the earlier runs' output left out, whether the last
    # run printed nothing: then the earlier output is read, the only rules the paste shows)
    reruns: list[tuple[str, int, list[tuple[int, int]], tuple[int, int] | None]] = field(default_factory=list)
    # the listing commands the paste shows (without their prompts), in order: what a grep among them selected
    listings: list[str] = field(default_factory=list)
    # ip6tables output beside iptables output (a dual-stack node): the IPv6 family's lines (first, last), emptied
    other_family: list[tuple[int, int]] = field(default_factory=list)
    # kube-proxy's log of its iptables-restore input ("Restoring iptables rules: *filter", -v=5): (first, last) line of
    # the input read (its log prefixes taken off), the earlier syncs' inputs left out, the line where kube-proxy logged
    # that the restore of the input read failed (None: it did not)
    restore_log: tuple[int, int, list[tuple[int, int]], int | None] | None = None
    # bare rule lines of both families without the commands or headers that printed them: the IPv6 family's told by
    # their addresses (other_family holds them), and the lines of no address between the two families' lines, which
    # could be either's, emptied too
    by_address: bool = False
    undecided_family: list[int] = field(default_factory=list)


def clean(text: str) -> Cleaned:
    """``text`` without a leading BOM and with each elision line emptied (line numbers kept)."""
    bom = text.startswith("\ufeff")
    text, dedented = _dedent(text[1:] if bom else text)
    text, uncommented = _uncomment_output(text)
    save_lines, elided = _quick_look(text)
    if save_lines is not None and not _maybe_both_families(text):
        return Cleaned(text, [], bom, dedented=dedented, save_lines=save_lines, uncommented=uncommented)
    lines = text.split("\n")
    restore_log, relisted = _restored_and_relisted(lines, text)
    elisions: list[int] = []
    commands: list[int] = []
    left_out: list[tuple[int, int, str]] = []
    marked: list[int] = []
    repeated: list[int] = []
    listings: list[str] = []
    printed: dict[str, int] = {}  # a save-shaped line -> the command run (counted by prompt lines) that printed it first
    run = 0
    walk = _TABLE_LINE.search(text) is None  # whole tables (a node each, say) may well hold the same rules
    outside = _fenced(lines, text, repeated)
    other: str | None = None  # the command whose output is being left out
    # no line of this command's output (of a run of log lines) left out yet: the next one starts a range
    fresh, log_fresh, after = True, True, _AfterSave()
    for i in range(len(lines)):
        line = _unmark(lines, i, marked)
        if after.words(lines, i, left_out):
            continue
        if walk and _SAVE_SHAPED.match(line):
            after.state = 2 if after.state else 0
            _once(lines, i, printed, run, repeated)
            continue
        if other is None and ("] " in line or ": " in line) and _LOG_LINE.match(line):  # (`kubectl logs …`: its output)
            log_fresh = _leave_out(left_out, lines, i, LOG, log_fresh)
            continue
        log_fresh = True
        if _notes_text(lines, i, outside, (elisions, marked, commands)):
            continue
        if len(line) > 300:  # (a long line: another command's output, left out with it, or a rule's)
            fresh = _leave_out(left_out, lines, i, other, fresh) if other is not None else fresh
            continue
        if elided and _is_cut(line, other):
            elisions.append(i + 1)
            lines[i] = "}" if line.rstrip().endswith(" }") else ""  # ("... }" (nft): the cut ends a block that stays closed)
        elif (edge := _table_edge(line, other)) is not None:  # a kubectl get table's header (left out), its end
            other, fresh = (TABLE, _leave_out(left_out, lines, i, TABLE, True)) if edge else (None, True)
        elif _is_command(line):
            if (listing := _listing_command(line)) is not None:
                listings.append(listing)
            other, fresh, run = _other_command(line, text), True, run + 1
            after.state = 1 if other is None and _SAVE_FORM.search(line) else 0
            if not line.lstrip().startswith("#"):
                _comment_command(lines, i, commands)
        elif other is not None and line.strip():  # (rules pasted right after, without their own command: its output ends)
            other, fresh = (None, fresh) if _RULE_START.match(line) else (other, _leave_out(left_out, lines, i, other, fresh))
    other_family, reruns, (by_address, undecided) = _families_and_moments(lines, text, commands, run, elisions)
    if not any((elisions, commands, left_out, marked, relisted, repeated, reruns, other_family, restore_log)):
        return Cleaned(text, [], bom, dedented=dedented, uncommented=uncommented, listings=listings)
    return Cleaned("\n".join(lines), elisions, bom, commands, dedented, left_out, marked=marked, repeated=repeated,
                   relisted=relisted, uncommented=uncommented, reruns=reruns, listings=listings, other_family=other_family,
                   restore_log=restore_log, by_address=by_address, undecided_family=undecided)


_QUOTED = re.compile(r'"(?:[^"\\]|\\.)*"')


def _close_cut_blocks(lines: list[str], cut: list[int], text: str) -> None:
    """nft blocks whose text ends at a cut mark, their closing braces cut with what followed ("chain KUBE-SERVICES {",
    "...", a rule, "...", then the end of the Markdown code block or of the paste): closed at that mark, as the block
    the author copied from was. Each stretch between code fences (made comments) is one copy."""
    if not cut or "{" not in text:
        return
    elisions, depth, last = set(cut), 0, -1
    for i, line in enumerate(lines + ["# ```"]):
        body = line.strip()
        if body.startswith("# ```"):
            if depth > 0 and last + 1 in elisions:
                lines[last] = "}" * depth
            depth, last = 0, -1
        elif body and not body.startswith("#"):
            bare = _QUOTED.sub("", body.split(" #")[0])  # (braces in a comment's string or an nft "# note" are none)
            depth = max(0, depth + bare.count("{") - bare.count("}"))
            last = i
        elif i + 1 in elisions:
            last = i


def _restored_and_relisted(lines: list[str], text: str) -> tuple[tuple[int, int, list[tuple[int, int]], int | None] | None,
                                                                  list[tuple[str, list[int], list[int]]]]:
    """kube-proxy's logged restore input read off its log (_restore_log), then earlier `-S CHAIN` listings left out."""
    restore_log = _restore_log(lines) if "Restoring iptables" in text else None
    return restore_log, _drop_earlier_listings(lines) if _NEW_CHAIN.search(text) else []


def _restore_log(lines: list[str]) -> tuple[int, int, list[tuple[int, int]], int | None] | None:
    """kube-proxy's -v=5 log of the iptables-restore input it wrote: each sync's input in place of its log lines (the
    klog header's "*filter", the lines after it without journald's prefix or klog's tab), read as that input; the
    other log lines are left out as a log after this. Only the last sync's input is read (the latest moment; the
    earlier ones emptied). None when the log holds no such input."""
    blocks: list[tuple[int, int]] = []
    i = 0
    while i < len(lines):
        m = _RESTORE_START.fullmatch(lines[i])
        if m is None:
            i += 1
            continue
        structured, start = m.group("open") is not None, i
        lines[i] = "" if structured else m.group("table")
        i += 1
        while i < len(lines):
            body = lines[i]
            if m.group("journald") is not None and (p := _JOURNALD_PREFIX.match(body)) is not None:
                body = body[p.end():]
            if structured and body.strip() == ">":  # (klog's end of the value: the log's, not the input's)
                lines[i] = ""
                i += 1
                break
            if _KLOG_LINE.match(body):
                break
            lines[i] = body[1:] if structured and body.startswith("\t") else body
            i += 1
        blocks.append((start, i))
    if not blocks:
        return None
    for a, b in blocks[:-1]:
        lines[a:b] = [""] * (b - a)
    a, b = blocks[-1]
    while b > a + 1 and not lines[b - 1].strip():
        b -= 1
    failed = next((k + 1 for k in range(b, min(b + 4, len(lines))) if _RESTORE_FAILED.match(lines[k])), None)
    return a + 1, b, [(x + 1, y) for x, y in blocks[:-1]], failed


def _families_and_moments(lines: list[str], text: str, commands: list[int], run: int, elisions: list[int]) \
        -> tuple[list[tuple[int, int]], list[_Rerun], tuple[bool, list[int]]]:
    """Once the lines are scanned: nft blocks cut open closed (_close_cut_blocks); the IPv6 family's part left out
    (_other_family; bare lines by their addresses: _bare_families), then the earlier moments of the rest (_reruns,
    _earlier_saves)."""
    _close_cut_blocks(lines, elisions, text)
    other_family = _other_family(lines) if "ip6tables" in text else []
    bare = (False, []) if other_family or not _maybe_both_families(text) else _bare_families(lines, other_family)
    reruns = (_reruns(lines, set(commands)) if run > 1 else []) or (_earlier_saves(lines) if _tables_repeat(text) else [])
    return other_family, reruns, bare


def _other_family(lines: list[str]) -> list[tuple[int, int]]:
    """ip6tables output beside iptables output (a dual-stack node): the IPv6 lines, emptied, as (first, last) spans.

    kube-proxy's IPv4 and IPv6 proxiers write the same chain names (KUBE-SVC-<hash of the port's name>), each with
    its own family's endpoints: read as one table, a service chain held both families' endpoint jumps, or the later
    save was taken for a later moment of the same node and the other family dropped without a word. A part starts
    at iptables' "# Generated by ip6tables-save" line or at a listing command (`ip6tables-save`, `ip6tables -t nat
    -S`, `… | grep`); the IPv4 part is read, the IPv6 part left out with a note."""
    starts: list[tuple[int, str]] = []
    for i, line in enumerate(lines):
        body = line.strip()
        if not body.startswith("#"):
            continue
        m = _GENERATED_BY.match(body)
        if m is None and (command := _listing_command(body)) is not None:
            m = _FAMILY_TOOL.search(command)
        if m is not None:
            family = "IPv6" if m.group(1).startswith("ip6") else "IPv4"
            if not starts or starts[-1][1] != family:
                starts.append((i, family))
    parts = [(i, starts[n + 1][0] if n + 1 < len(starts) else len(lines), family) for n, (i, family) in enumerate(starts)]
    # (a part that printed no rule, `ip6tables-save | grep web` matching nothing, holds no family's rules)
    held = {family for i, end, family in parts if any(x.strip() and not x.lstrip().startswith("#") for x in lines[i + 1:end])}
    if held != {"IPv4", "IPv6"}:
        return []
    spans: list[tuple[int, int]] = []
    for i, end, family in parts:
        if family == "IPv6":
            while end > i + 1 and not lines[end - 1].strip():
                end -= 1
            for k in range(i, end):
                lines[k] = ""
            spans.append((i + 1, end))
    return spans


# an address in a rule's -s, -d, --to-destination (iptables-save's spelling) or an endpoint comment ("ns/svc:p ->
# [fd00::5]:80"): iptables holds only IPv4 ones, ip6tables only IPv6 ones
# (an IPv4 address leads with its dotted quad, a port may follow; an IPv6 one holds two colons at least, its port after "]")
_RULE_ADDRESS = re.compile(r'(?:\s(?:-[sd]|--to-destination|--to-source)\s+|-> )(?:(\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3})|'
                           r'\[?([0-9A-Fa-f]*:[0-9A-Fa-f]*:[0-9A-Fa-f.:]*))')
_BARE_RULE = re.compile(r"[ \t]*(?:\[\d+:\d+\][ \t]*)?-[AI][ \t]+(\S+)")
_JUMP = re.compile(r"\s-[jg]\s+(KUBE-SEP-\S+)")
_ANY_V6_RULE = _LineLed(r"[ \t]*(?:\[\d+:\d+\][ \t]*)?-A[ \t][^\n]*?(?:\s(?:-[sd]|--to-destination)\s+\[?|-> \[)"
                        r"[0-9A-Fa-f]*:[0-9A-Fa-f]*:")


def _maybe_both_families(text: str) -> bool:
    """Bare rule lines (no table header, no ip6tables command) of which one shows an IPv6 address. A paste, not a big
    dump (whose table header is found first; a headerless text over 4 MiB, a grep of a big dump, is not looked at)."""
    return len(text) <= _FAMILIES_MOST and _TABLE_LINE.search(text) is None and ("::" in text or "]:" in text) \
        and "ip6tables" not in text and _ANY_V6_RULE.search(text) is not None


_FAMILIES_MOST = 4 << 20


def _bare_families(lines: list[str], spans: list[tuple[int, int]]) -> tuple[bool, list[int]]:
    """(whether bare lines of both families were told apart by their addresses, the lines left undecided)."""
    undecided = _families_by_address(lines, spans)
    return bool(spans), undecided


def _families_by_address(lines: list[str], spans: list[tuple[int, int]]) -> list[int]:
    """IPv4 and IPv6 rule lines pasted together without the commands that printed them (a dual-stack node's
    `iptables-save` and `ip6tables-save` lines): each line's family by the addresses it shows, an unaddressed jump to an
    endpoint chain by that chain's, the other lines by the lines around them (a listing's lines of one family are
    together) - and where they sit between the two families' lines, by the chain they go on with (a chain's rules are
    together). The IPv6 lines are emptied (their (first, last) spans into ``spans``), and so are the lines that could
    be either family's, returned."""
    rules = {i: m.group(1) for i, line in enumerate(lines) if (m := _BARE_RULE.match(line)) is not None}
    family: dict[int, int] = {}
    for i in rules:
        found = {4 if v4 else 6 for v4, _ in _RULE_ADDRESS.findall(lines[i])}
        if len(found) == 1:
            family[i] = found.pop()
    if set(family.values()) != {4, 6}:
        return []
    of_chain: dict[str, set[int]] = {}
    for i, f in family.items():
        of_chain.setdefault(rules[i], set()).add(f)
    for i in rules:  # (an endpoint chain's name hashes its address: its family is its lines')
        if i not in family and (m := _JUMP.search(lines[i])) is not None and len(of_chain.get(m.group(1), ())) == 1:
            family[i] = next(iter(of_chain[m.group(1)]))
    undecided = _between(rules, family)
    order = sorted(rules)
    for i in order:
        if family.get(i) == 6 or i in undecided:
            lines[i] = ""
    for k, i in enumerate(order):  # (rules of the IPv6 family one after the other: one span, blank lines between them too)
        if family.get(i) == 6:
            if k and family.get(order[k - 1]) == 6 and spans and spans[-1][1] == order[k - 1] + 1:
                spans[-1] = (spans[-1][0], i + 1)
            else:
                spans.append((i + 1, i + 1))
    return sorted(i + 1 for i in undecided)


def _between(rules: dict[int, str], family: dict[int, int]) -> set[int]:
    """Each rule line of no family told: the family of the lines around it when they agree (or on its one side); between
    lines of the two families, the family of the chain it goes on with, above or below, when only one side's chain is
    its; else undecided (returned)."""
    order = sorted(rules)
    undecided: set[int] = set()
    k = 0
    while k < len(order):
        if order[k] in family:
            k += 1
            continue
        end = k
        while end < len(order) and order[end] not in family:
            end += 1
        above = order[k - 1] if k else None
        below = order[end] if end < len(order) else None
        fa = family.get(above) if above is not None else None
        fb = family.get(below) if below is not None else None
        gap = order[k:end]
        if fa is None or fb is None or fa == fb:
            for i in gap:
                family[i] = fa or fb  # type: ignore[assignment]
        else:
            top = rules[above] if above is not None else ""
            bottom = rules[below] if below is not None else ""
            a = 0
            while a < len(gap) and rules[gap[a]] == top != bottom:
                family[gap[a]] = fa
                a += 1
            b = len(gap)
            while b > a and rules[gap[b - 1]] == bottom != top:
                family[gap[b - 1]] = fb
                b -= 1
            undecided.update(gap[a:b])
        k = end
    return undecided


_GENERATED_BY = re.compile(r"#\s*Generated by (ip6?tables)(?:-legacy|-nft)?-save\b")
_FAMILY_TOOL = re.compile(r"(?:^|[\s/;|(])(ip6?tables)(?:-legacy|-nft)?(?:-save)?(?=\s|$)")


def _dollar_next(lines: list[str], i: int) -> bool:
    """The next line is a command led by a bare "$" ("$sudo …"): line ``i`` is its prompt's first line, no words of the author."""
    if i + 1 >= len(lines) or not (nxt := lines[i + 1].lstrip()).startswith("$") or nxt[1:2].isspace():
        return False
    return _PROMPT.match(nxt) is not None


def _comment_command(lines: list[str], i: int, commands: list[int]) -> None:
    """Line ``i``, a prompt or command, made a "# " comment (and the first line of its two-line prompt, if any)."""
    commands.append(i + 1)
    lines[i] = "# " + lines[i].strip()
    _prompt_head(lines, i, commands)


def _prompt_head(lines: list[str], i: int, commands: list[int]) -> None:
    """The first line of a two-line prompt above a command led by a bare "$" ("vortex-dev:05:43:50 [~/src](master)vagrant"
    then "$sudo iptables-save …"): the host and directory the shell printed, a comment too. Never a rule line."""
    if not lines[i].startswith("# $") or lines[i][3:4].isspace() or i == 0:  # (only "$sudo …": "$ sudo" is a prompt alone)
        return
    above = lines[i - 1]
    if above.strip() and not above.lstrip().startswith("#") and "/*" not in above and not (
            _SAVE_SHAPED.match(above) or _RULE_START.match(above) or _LIST_ROW.match(above) or _ELISION.match(above)):
        lines[i - 1] = "# " + above.strip()
        commands.append(i)


def _once(lines: list[str], i: int, printed: dict[str, int], run: int, repeated: list[int]) -> None:
    """A save-shaped line an earlier command of the paste printed already: emptied, its line noted."""
    if printed.setdefault(lines[i].strip(), run) != run:
        lines[i] = ""
        repeated.append(i + 1)


@dataclass(slots=True)
class _AfterSave:
    """The author's words after the output of a listing of iptables-save's form, which holds no blank line: after
    its rules and a blank line, a line that is no rule, command or comment, before the next command."""

    state: int = 0  # 1: under such a listing; 2: it printed rules; 3: a blank line after them
    fresh: bool = True

    def words(self, lines: list[str], i: int, left_out: list[tuple[int, int, str]]) -> bool:
        """Line ``i`` is such words: emptied, its range noted."""
        line = lines[i]
        if self.state and not line.strip():
            self.state = 3 if self.state > 1 else self.state
        elif self.state == 3 and not (_SAVE_SHAPED.match(line) or _RULE_START.match(line) or _is_command(line)
                                      or line.lstrip().startswith("#") or len(line) <= 120 and _ELISION.match(line)
                                      or _dollar_next(lines, i)):
            self.fresh = _leave_out(left_out, lines, i, WORDS, self.fresh)
            return True
        else:
            self.fresh = True
        return False


def _table_edge(line: str, other: str | None) -> bool | None:
    """True: a kubectl get table's header (no command is being left out); False: the blank line that ends the table
    being left out (what follows is another command's or the rules); None: neither."""
    if other is None and line.startswith(("N", " ", "\t")) and _KUBECTL_TABLE.match(line):
        return True
    return False if other == TABLE and not line.strip() else None


def _is_cut(line: str, other: str | None) -> bool:
    """A line that marks the author's cut of the rules. One inside another command's output ("# ip a" then "...") is
    that output's, left out with it; `kubectl describe` output is read aside as the Service's facts, with its cut."""
    return len(line) <= 120 and _ELISION.match(line) is not None and (other is None or " describe " in other)


_CHAIN_LISTING = re.compile(r"\bip6?tables(?:-legacy|-nft)?\s(?:.*\s)?(?:-[a-zA-Z]*[LS]|--list)")


def _tables_repeat(text: str) -> bool:
    """A table's header twice (str.count: C speed on a big dump; a text with fewer than two lines
    starting with "*", an nft listing or document, is counted once)."""
    if text.count("\n*") + text.startswith("*") < 2:
        return False
    return any(text.count(f"\n*{t}\n") + text.startswith(f"*{t}\n") > 1 for t in ("filter", "nat", "mangle", "raw", "security"))


def _earlier_saves(lines: list[str]) -> list[_Rerun]:
    """Two `iptables-save` outputs one after the other, without their prompts (a table's header again): the lines
    before the later one's first table (and its "# Generated by" line) are an earlier moment, emptied."""
    if any(_listing_command(line.strip()) for line in lines if line.lstrip().startswith("#")):
        return []  # (under their commands: _reruns's, or two nodes' saves, each its own prompt)
    seen: set[str] = set()
    for i, line in enumerate(lines):
        body = line.strip()
        if body.startswith("*") and _TABLE_WORD.fullmatch(body[1:]):
            if body in seen:
                start = i
                while start > 0 and lines[start - 1].lstrip().startswith("# Generated by"):
                    start -= 1
                for n in range(start):
                    lines[n] = ""
                return [("iptables-save", start + 1, [(1, start)], None)]
            seen.add(body)
    return []


_Rerun = tuple[str, int, list[tuple[int, int]], tuple[int, int] | None]


def _reruns(lines: list[str], commands: set[int]) -> list[_Rerun]:
    """The listing commands of the paste run more than once (the same words: "sudo iptables-save | grep nginx"
    before and after `kubectl delete service …`, two whole `iptables-save` runs): a chain of both runs' rules is
    one kube-proxy never wrote, so only the last run's output is read, the earlier runs' lines emptied. When the
    last run printed nothing (its grep matched no rule any more), the last run that printed rules is read.
    Each: (the command, the line of its last run, the (first, last) lines of each run left out, the lines of the
    run read when the last printed nothing). (Several hosts' prompts were told apart before: parse/hosts.py.)"""
    runs: list[tuple[str | None, int, list[int]]] = []  # (listing command or None: another prompt, its line, output lines)
    for i, line in enumerate(lines):
        body = line.strip()
        if not body or body.startswith(("[sudo] password for ", "# [sudo] password for ")):  # (sudo's, inside the run)
            continue
        command = _listing_command(body) if body.startswith("#") else None  # ("# Generated by …" is none)
        if i + 1 in commands or command is not None:
            runs.append((command or _listing_command(body), i, []))
        elif runs and not body.startswith("#"):
            runs[-1][2].append(i)
    by_command: dict[str, list[list[int]]] = {}
    last_run: dict[str, int] = {}
    for command, at, output in runs:
        if command is not None:  # (the same command on another node is no later moment: its prompt tells them apart)
            key = " ".join(lines[at].strip().removeprefix("#").split())
            by_command.setdefault(key, []).append(output)
            last_run[key] = at + 1
    out: list[_Rerun] = []
    for key, each in by_command.items():
        command = _listing_command(key) or key
        if _CHAIN_LISTING.search(command):  # (`iptables -L`/`-S` listed again: their readers keep the last listing)
            continue
        each = [output for output in each if _could_print(command, output, lines)]
        printed = [output for output in each if output]
        if len(each) < 2 or not printed or (len(printed) == 1 and each[-1]):
            continue
        kept = printed[-1]
        dropped = [(output[0] + 1, output[-1] + 1) for output in printed[:-1]]
        for output in printed[:-1]:
            for n in output:
                lines[n] = ""
        out.append((command, last_run[key], dropped, None if each[-1] else (kept[0] + 1, kept[-1] + 1)))
    return out


def _could_print(command: str, output: list[int], lines: list[str]) -> bool:
    """The lines under a run of ``command`` are its output as far as its grep words tell: a line none of whose words
    it holds is no grep's output (the author pasted another command's under it: `grep KUBE-SEP-B` above KUBE-SEP-A's
    three lines), and that run is no earlier moment of the command."""
    selection = grep_selection([command]) if "grep" in command else None
    return selection is None or all(selects(selection, lines[n]) for n in output if lines[n].strip())


# a line that is no comment (the first such ends the look: a dump's second line already is one)
_NOT_COMMENT = _LineLed(r"[ \t]*[^#\s]")
# the author's pointer under a word of the line above ("#            ^^^^^", then "#       pod ip-address")
_CARETS = re.compile(r"[ \t]*\^+[ \t]*$")
# iptables' own comment lines, which stay comments
_TOOL_COMMENT = re.compile(r"#[ \t]*(?:Generated by|Completed on|Warning:|Table )")


def _uncomment_output(text: str) -> tuple[str, list[int]]:
    """A text of "# " lines only: the lines whose text without the "#" is a rule listing's (a command's output
    kept as shell comments under it, "# sudo nft list ruleset | grep -A5 kube" then "# table ip kube-proxy {"),
    the "#" taken off; the commands and iptables' own comments stay. Unchanged when no such line is a rule's.
    The commands themselves may be left bare, and so may the author's cut marks ("sudo iptables -t nat -S | grep
    web", ". . .", then the output as "# -A …" lines: a microk8s notes file)."""
    if not _commented_output(text):
        return text, []
    lines = text.split("\n")
    bodies = {i: line.lstrip()[1:] for i, line in enumerate(lines)
              if line.lstrip().startswith("#") and not _TOOL_COMMENT.match(line.lstrip())}
    bodies = {i: b[1:] if b.startswith(" ") else b for i, b in bodies.items()}
    listing = {i: b for i, b in bodies.items() if not (_PROMPT.match(b) or _COMMAND.match(b) or _BARE_PROMPT.match(b))}
    for i in [i for i, b in listing.items() if _CARETS.match(b)]:  # the author's "^^^^^" under a rule, its caption
        listing.pop(i)
        if i + 1 in listing and not _RULE_START.match(listing[i + 1]) and not listing[i + 1].lstrip()[:1].isdigit():
            listing.pop(i + 1)
    if not any(_RULE_START.match(b) for b in listing.values()):
        return text, []
    for i, body in listing.items():  # (an editor's "# " where it wrapped a rule, "-j # KUBE-SVC-…", taken off too)
        lines[i] = body.replace(" -j # ", " -j ", 1) if " -j # " in body else body
    return "\n".join(lines), sorted(i + 1 for i in listing)


def _commented_output(text: str) -> bool:
    """Every line is a "#" line, blank, or (when some "#" line is there) a bare listing command or a cut mark.
    Stops at the first other line (iptables-save's own output: its second line)."""
    if "#" not in text[:4096]:
        return False
    start = 0
    while (m := _NOT_COMMENT.search(text, start)) is not None:
        begin = m.start() + (text[m.start()] == "\n")
        end = text.find("\n", begin)
        line = text[begin:] if end < 0 else text[begin:end]
        if not (_COMMAND.match(line) or _ELISION.match(line) and len(line) <= 120):
            return False
        if end < 0:
            break
        start = end
    return True


def _quick_look(text: str) -> tuple[bool | None, bool]:
    """(save_lines, elided): save_lines is None when the text may need cleaning (a cut, a prompt, the author's marks,
    a log line…), else whether every line is of iptables-save's shapes; elided: it may hold cut marks. Literals and
    line-led regexes only: a 100 MB dump is looked at in C."""
    if _save_lines_only(text):  # (its first line is looked at below, as every paste's first lines are)
        elided = _QUICK_START.match(text) is not None
        if not elided and not head_commands(text) and _ROOT_PROMPT.search(text) is None and not _maybe_marked(text) \
                and not text.startswith("Warning: ") and not _tables_repeat(text):
            return True, False
        return None, elided
    elided = _maybe_elided(text)
    if not elided and not _maybe_commands(text) and not _any_mark(text) and "```" not in text \
            and _ANY_ITALIC_LINE.search(text) is None and _ANY_LOG_LINE.search(text) is None and "Warning: " not in text \
            and not _tables_repeat(text):
        return False, False
    return None, elided


def _notes_text(lines: list[str], i: int, outside: set[int] | None, into: tuple[list[int], list[int], list[int]]) -> bool:
    """Line ``i`` is the notes' own text, made a comment (or an italic table header, a cut): prose outside their ```
    blocks, a Markdown line (_markdown; not one over 300 characters, which no such line is)."""
    line = lines[i]
    if outside is not None and i in outside and _notes_prose(line):
        into[2].append(i + 1)
        lines[i] = "# " + line.strip()
        return True
    return len(line) <= 300 and ("*" in line or "`" in line or line.startswith("Warning: ") or "ed by " in line
                                 or "ed on " in line) and _markdown(lines, i, into)


def _markdown(lines: list[str], i: int, into: tuple[list[int], list[int], list[int]]) -> bool:
    """A line of Markdown notes: a bold prose line or a code fence (a comment), an italic line (_italic); and
    iptables-nft's legacy-tables notice that lost its "# " (a Markdown heading copied as text): a comment again."""
    line = lines[i]
    if ("**" in line and _MD_BOLD_LINE.match(line)) or ("`" in line and _MD_FENCE.match(line)) \
            or (line.startswith("Warning: ") and _LEGACY_WARNING.match(line)) or (("ed by " in line or "ed on " in line) and _SAVE_COMMENT.match(line)):
        into[2].append(i + 1)
        lines[i] = "# " + line.strip()
        return True
    if "*" in line and (italic := _MD_ITALIC_LINE.match(line)) is not None:
        _italic(lines, i, italic.group(1), into)
        return True
    return False


def _italic(lines: list[str], i: int, inner: str, into: tuple[list[int], list[int], list[int]]) -> None:
    """An italic line: a table's header in emphasis ("*nat*", read "*nat", a mark) when a COMMIT closes the table
    after it, a cut ("*[snip]*"), else the author's note (a comment)."""
    elisions, marked, commands = into
    if _TABLE_WORD.fullmatch(inner) and _commit_follows(lines, i):
        lines[i] = "*" + inner
        marked.append(i + 1)
    elif _ELISION.match(inner):
        lines[i] = ""
        elisions.append(i + 1)
    else:
        lines[i] = "# " + lines[i].strip()
        commands.append(i + 1)


# a rule of iptables-save's or -L's forms ("-A …", "[p:b] -A …", "KUBE-SVC-X  tcp  --  0.0.0.0/0  10.0.0.1  …", with -v
# its counters first): what a block quoting rules again holds (never a header, a cut mark, a prompt or a COMMIT)
_QUOTED_RULE = re.compile(r"[ \t]*(?:(?:\[\d+:\d+\][ \t]*)?-A[ \t]+\S|(?:\d+[KMGT]?[ \t]+\d+[KMGT]?[ \t]+)?[A-Z][\w-]*[ \t]+"
                          r"(?:all|tcp|udp|sctp|icmp|\d+)[ \t]+(?:--|-f)[ \t])")


def _fenced(lines: list[str], text: str, repeated: list[int]) -> set[int] | None:
    """The lines outside the Markdown notes' ``` blocks (None: no block); a block that only quotes rules again, emptied."""
    outside = _outside_fences(lines) if "```" in text else None
    if outside is not None:
        _requoted(lines, outside, repeated)
    return outside


def _requoted(lines: list[str], outside: set[int], repeated: list[int]) -> None:
    """A ``` block of Markdown notes that only quotes again lines shown above it, no chain or table header among them
    (the notes' "curl 10.0.0.22:8080 matches this rule:" and the rule once more): emptied, its lines noted. Read again,
    a quoted -L row was a second rule of its chain (one entry rule, two paths)."""
    seen: set[str] = set()
    block: list[int] = []
    for i, line in enumerate(lines):
        if i not in outside and not ("`" in line and _MD_FENCE.match(line)):
            block.append(i)
            continue
        body = [j for j in block if lines[j].strip()]
        if body and all(lines[j].strip() in seen and _QUOTED_RULE.match(lines[j]) for j in body):
            for j in body:
                lines[j] = ""
                repeated.append(j + 1)
        seen.update(lines[j].strip() for j in block)
        block = []
        seen.add(line.strip())


def _outside_fences(lines: list[str]) -> set[int] | None:
    """The lines of Markdown notes outside their ``` code blocks (None: no block closed in them)."""
    outside: set[int] = set()
    inside = closed = False
    for i, line in enumerate(lines):
        if "`" in line and _MD_FENCE.match(line):
            closed = closed or inside
            inside = not inside
        elif not inside:
            outside.add(i)
    return outside if closed else None


def _notes_prose(line: str) -> bool:
    """A line of the notes' own text around their code blocks ("These are made by kubelet...", "- KUBE-SVC-..."):
    it starts at the margin (an indented line is Markdown's code) and is no rule, prompt, command or cut mark."""
    return bool(line) and line[0] not in " \t#" and not (
        _RULE_START.match(line) or _SAVE_SHAPED.match(line) or _LIST_ROW.match(line) or _is_command(line)
        or _ELISION.match(line) or _MARK.match(line) or _MD_BOLD_LINE.match(line) or _MD_ITALIC_LINE.match(line))


def _commit_follows(lines: list[str], i: int) -> bool:
    """A COMMIT line comes after line ``i`` before any other table header."""
    for line in lines[i + 1:]:
        body = line.strip()
        if body == "COMMIT":
            return True
        if body.startswith("*") and _TABLE_WORD.fullmatch(body[1:].rstrip("*")):
            return False
    return False


def _unmark(lines: list[str], i: int, marked: list[int]) -> str:
    """Line ``i`` without the author's marks on a rule line (an arrow before it, Markdown emphasis around or inside
    it, a "// note" after it)."""
    line = lines[i]
    if "*" in line and (edge := _MD_EDGE.match(line)) is not None:
        line = edge.group(1) + line[edge.end():]
    if _SAVE_SHAPED.match(line):
        if "*" in line:
            line = _MD_TAIL.sub("", _MD_BOLD_WORD.sub(r"\1", line) if "**" in line else line)
        if "/" in line or "<" in line or ">" in line or "\u2190" in line:
            note = next((m for m in _NOTE_AFTER_RULE.finditer(line) if not _open_quote(line[:m.start()])), None)
            line = line[:note.start()] if note is not None else line
    else:
        mark = _MARK.match(line)
        if mark is not None and (_RULE_START.match(line, mark.end()) or _LIST_ROW.match(line, mark.end())):
            line = " " * mark.end() + line[mark.end():]  # blanked: -L columns stay where they were
    if line is not lines[i]:
        lines[i] = line
        marked.append(i + 1)
    return line


def _open_quote(text: str) -> bool:
    """An odd number of unescaped double quotes: ``text`` ends inside a quoted comment."""
    return len(re.findall(r'(?<!\\)"', text)) % 2 == 1


def _drop_earlier_listings(lines: list[str]) -> list[tuple[str, list[int], list[int]]]:
    """Empty every listing of a chain by ``iptables -S CHAIN`` (its ``-N`` line and the ``-A`` lines of that
    chain right after it) but the last: the author listed the chain again at a later moment, and a chain
    of both listings' rules is one kube-proxy never wrote."""
    blocks: dict[tuple[str | None, str], list[list[int]]] = {}
    i, table = 0, None  # (the table the last listing command named: `iptables -S` the filter's, `-S -t nat` the nat's)
    while i < len(lines):
        m = _NEW_CHAIN_LINE.match(lines[i])
        if m is None:
            if "-S" in lines[i] or "--list-rules" in lines[i]:
                table = _listed_table(lines[i], table)
            i += 1
            continue
        name, block = m.group(1), [i]
        i += 1
        while i < len(lines) and lines[i].lstrip().startswith(f"-A {name} "):
            block.append(i)
            i += 1
        blocks.setdefault((table, name), []).append(block)
    out: list[tuple[str, list[int], list[int]]] = []
    for (_, name), listed in blocks.items():
        if len(listed) < 2:
            continue
        dropped = [n for block in listed[:-1] for n in block]
        for n in dropped:
            lines[n] = ""
        out.append((name, [block[0] + 1 for block in listed], [n + 1 for n in dropped]))
    return out


_LIST_RULES = re.compile(r"(?:^|\s)(?:-S|--list-rules)(?=\s|$)")
_TABLE_OPTION = re.compile(r"(?:^|\s)(?:-t[ \t]*|--table[ \t=]+)(\w+)")


def _listed_table(line: str, table: str | None) -> str | None:
    """The table an ``iptables -S`` command line lists (filter unless ``-t`` names another); ``table`` for another line:
    the nat and filter tables' chains of one name (KUBE-SERVICES, KUBE-NODEPORTS) are no chain listed twice."""
    if _RULE_TOOL.search(line) is None or _LIST_RULES.search(line) is None or _SAVE_SHAPED.match(line):
        return table
    m = _TABLE_OPTION.search(line)
    return m.group(1) if m else "filter"


def _is_command(line: str) -> bool:
    """A prompt, command or prose line (one already made a "# " comment counts when it is a prompt)."""
    if line.lstrip().startswith("#"):
        return _other_command(line) is not None or _RULE_TOOL.search(line) is not None and _PROMPT.match(line) is not None
    return bool(_PROMPT.match(line) or _BARE_PROMPT.match(line) or _COMMAND.match(line) or _PROSE.match(line)
                or _OWN_WORDS.match(line) or _KUBECTL_SAYS.match(line) or _bare_other(line))


def _bare_other(line: str) -> bool:
    """A well-known command typed without a prompt ("ip addr show kube-ipvs0" opening a Markdown code block): no rule
    listing starts a line with one, and its output is no rule listing."""
    body = line.strip()
    return _OTHER_COMMAND.match(body) is not None and _RULE_TOOL.search(body) is None


def _other_command(line: str, text: str = "") -> str | None:
    """The command of a prompt line whose output is no rule listing, else None. A `conntrack -L` among rule
    listings (``text`` holds rule lines) is such a command too: its flows are read from a file of their own."""
    body = line.strip()
    m = _PROMPT.match(body)
    command = body[m.end() - 1:].strip() if m else body
    if _CONNTRACK_LIST.match(command) and text and _ANY_SAVE_SHAPED.search(text) is not None:
        return command
    if _RULE_TOOL.search(command) or not _OTHER_COMMAND.match(command):
        return None
    return command


_CONNTRACK_LIST = re.compile(r"(?:sudo\s+)?conntrack\s+(?:-\w+\s+)*-L\b")


def _leave_out(left_out: list[tuple[int, int, str]], lines: list[str], i: int, command: str, fresh: bool) -> bool:
    """Empty line ``i`` of ``command``'s output; one range per command run. Returns False (the range is open)."""
    lines[i] = ""
    if fresh:
        left_out.append((i + 1, i + 1, command))
    else:
        left_out[-1] = (left_out[-1][0], i + 1, command)
    return False


def _dedent(text: str) -> tuple[str, bool]:
    """``text`` without the run of spaces/tabs every non-blank line starts with (line numbers kept)."""
    first = text.lstrip("\r\n")[:1]
    if first not in (" ", "\t"):  # a whole dump starts with "#" or "*": not even split
        return text, False
    lines = text.split("\n")
    prefix: str | None = None
    for line in lines:
        if not line.strip():
            continue
        lead = line[:len(line) - len(line.lstrip(" \t"))]
        if prefix is None or not lead.startswith(prefix):
            prefix = lead if prefix is None else _common(prefix, lead)
        if not prefix:
            return text, False
    if not prefix:
        return text, False
    return "\n".join(line[len(prefix):] if line.startswith(prefix) else line.lstrip(" \t") for line in lines), True


def _common(a: str, b: str) -> str:
    n = 0
    while n < min(len(a), len(b)) and a[n] == b[n]:
        n += 1
    return a[:n]


def _maybe_commands(text: str) -> bool:
    """Prompts and commands sit at the top of a paste or between its parts: look at the first lines and
    at lines starting with a prompt or a command word anywhere (cheap for a 100 MB dump)."""
    return head_commands(text) or _ANY_PROMPT.search(text) is not None


# (a prompt may end the paste without its line's end: "/ #" last, the copy stopped at the cursor)
_ANY_PROMPT = re.compile(r"\n[ \t]*(?:\u279c[ \t]+[~\w./:-]+[ \t]+\S|(?:\u279c[ \t]+)?(?:\$ |[~/][\w.:~/-]*[ \t]?[$#%](?:[ \n]|\Z)|\[[^\]\n]{0,80}\][$#](?:[ \n]|\Z)|"
                         r"[~\w./-]{1,80}\][$#](?:[ \n]|\Z)|[\w.-]+@[\w.:~/-]*[$#](?:[ \n]|\Z)|[\w.-]+@[\w.-]+[ \t][~/][\w.:~/-]*[ \t][$#](?:[ \n]|\Z)|[\w.-]+:[~/][\w.:~/-]*[ \t][$#](?:[ \n]|\Z)|"
                         r"[^\W\d_\x00-\x7f]|(?:# ?)?(?:sudo )?(?:iptables|ip6tables|nft|ipvsadm|kubectl)[\w-]* |\$" + _TOOLS + "))")
# root's bare "# " prompt before a rule tool ("# iptables-save | grep web": greps of one dump, each a run of
# its own); a dump's own "# Generated by …" line does not start so
_ROOT_PROMPT = _LineLed(r"[ \t]*# ?(?:sudo )?(?:iptables|ip6tables|nft|ipvsadm|kubectl)[\w-]* ")


# a fast pre-check over the whole text (a literal newline first lets the engine skip ahead in C)
_QUICK_BODY = r"[ \t]*(?:\*{3}|_{3}|\.{3}|\.[ \t]\.[ \t]\.|…|[\[(<][ \t]*(?:\.{3}|…|[sS]nip|[tT]runcated|[cC]ut|[oO]mitted|[eE]lided|[tT]rimmed|[mM]ore|[rR]edacted)|[sS]nip|[tT]runcated|[oO]mitted|--)"
_QUICK = re.compile("\n" + _QUICK_BODY)
_QUICK_START = re.compile(_QUICK_BODY)


def _maybe_marked(text: str) -> bool:
    """The author's marks on rule lines (Markdown emphasis, a "// note" after a rule): literals looked for first."""
    return ("**" in text or _note_literal(text)) and _any_mark(text)


def _any_mark(text: str) -> bool:
    """An author's mark anywhere: an arrow leading a line, Markdown bold, a note after a rule (each looked for by
    its literal first)."""
    return "**" in text or _note_literal(text) and _NOTE_MARK.search(text) is not None \
        or ">" in text and _ARROW_LINE.search(text) is not None


def _note_literal(text: str) -> bool:
    """A note mark's literal is in ``text`` (a "//", an arrow): _NOTE_MARK may match."""
    return " //" in text or " <-" in text or "\u2190" in text or ">>" in text or " <<" in text or " <=" in text \
        or "=> " in text or "-> " in text and "--> " in text


def _maybe_elided(text: str) -> bool:
    return _QUICK_START.match(text) is not None or _QUICK.search(text) is not None


# after its first line, a line of none of the shapes iptables-save prints: "[p:b] " counters, "-A ", a
# declaration, comment or table ("*nat": never Markdown's "**bold**"), COMMIT, blank. None of those can start
# a cut mark (_QUICK) or a prompt (_ANY_PROMPT), so a dump of such lines needs neither of their two passes (one
# pass of this, ~3x cheaper)
# ("[" and a digit up to the first "] ": never "[...]", "[snip]" nor a "[user@host]$ " prompt)
_NOT_SAVE_LINE = compile_possessive(r"\n(?!\[\d[^\]\n]*+\] |-A |[:#]|\*[a-z]++\r?(?:\n|$)|COMMIT\r?(?:\n|$)|\r?(?:\n|$))")


def _save_lines_only(text: str) -> bool:
    if _NOT_SAVE_LINE.search(text) is not None:
        return False
    first = text.split("\n", 1)[0] if text.startswith("*") else ""  # (a Markdown line first: bold or italic)
    return not (_MD_BOLD_LINE.match(first) or _MD_ITALIC_LINE.match(first))


_NFT_KINDS = frozenset(("metainfo", "table", "chain", "rule", "set", "map", "element", "flowtable", "counter", "quota",
                        "ct helper", "limit", "ct timeout", "ct expectation", "synproxy", "secmark"))


def json_excerpt(text: str, elisions: list[int]) -> str | None:
    """``nft -j … | jq .`` output cut with ``...`` (a KEP and blog posts paste it so): the JSON objects
    between the cuts, each closed where the author cut it, as one ``{"nftables": [...]}`` document.
    None when the text is no such excerpt (whole JSON, or not JSON at all)."""
    lines = text.split("\n")
    first = next((s for s in (ln.strip() for ln in lines) if s and not s.startswith("#")), "")
    if not elisions or not first.startswith(("{", "[")) or '"nftables"' in text[:200]:
        return None
    cuts = set(elisions)
    chunks: list[list[str]] = [[]]
    for n, line in enumerate(lines, 1):
        if n in cuts:
            chunks.append([])
        elif not line.lstrip().startswith("#"):
            chunks[-1].append(line)
    objects: list[object] = []
    for chunk in chunks:
        got = _json_values("\n".join(chunk))
        if got is None:
            return None
        objects += got
    items = [o for o in objects if isinstance(o, dict) and len(o) == 1 and next(iter(o)) in _NFT_KINDS]
    if not items or len(items) != len(objects):
        return None
    import json

    return json.dumps({"nftables": items})


def _json_values(chunk: str) -> list[object] | None:
    """The JSON values of one cut-out piece: separating commas dropped, brackets the cut left open closed."""
    import json

    body = chunk.strip().strip(",").strip()
    if not body:
        return []
    stack: list[str] = []
    in_string = escaped = False
    for ch in body:
        if in_string:
            escaped, in_string = (False, in_string) if escaped else (ch == "\\", ch != '"')
        elif ch == '"':
            in_string = True
        elif ch in "{[":
            stack.append("}" if ch == "{" else "]")
        elif ch in "}]":
            if not stack or stack.pop() != ch:
                return None  # cut inside an object opened above the cut: not repaired
    if in_string:
        return None
    body = body.rstrip().rstrip(",") + "".join(reversed(stack))
    decoder, values, i = json.JSONDecoder(), [], 0
    while i < len(body):
        try:
            value, i = decoder.raw_decode(body, i)
        except (ValueError, RecursionError):  # nested deeper than the decoder's recursion: no nft -j piece
            return None
        values.append(value)
        while i < len(body) and body[i] in " \t\r\n,":
            i += 1
    return values


# the lines of an iptables -L listing that no other form has: a chain's header and the column header
_LIST_HEADER = re.compile(r"[ \t]*(?:Chain[ \t]+\S+[ \t]+\(|(?:num[ \t]+)?(?:pkts[ \t]+bytes[ \t]+)?target[ \t]+prot[ \t]+opt\b)")


def split_forms(text: str) -> list[str] | None:
    """An ``iptables -L`` listing and iptables-save lines in one paste (a chain listed with ``-L -vn``, then
    grepped out of a save; each form shows what the other lacks: counters, matches): the text once per form,
    the other form's lines emptied (line numbers kept; comment lines in both). None for a paste of one form."""
    if "table " in text and _ANY_NFT_TABLE.search(text) and _ANY_SAVE_SHAPED.search(text):
        return _split_nft(text)
    if "Chain" not in text or not _LIST_HEADER.search(text) or not _ANY_SAVE_SHAPED.search(text):
        return None
    lines = text.split("\n")
    listing, save = list(lines), list(lines)
    kinds = set()
    for i, line in enumerate(lines):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        if _SAVE_SHAPED.match(line) or _NEW_CHAIN_LINE.match(line):
            listing[i] = ""
            kinds.add("save")
        else:
            save[i] = ""
            kinds.add("list" if _LIST_HEADER.match(line) else "other")
    if "save" not in kinds or "list" not in kinds:
        return None
    return ["\n".join(listing), "\n".join(save)]


# an nft listing's table block opening ("table ip nat {"): `nft list ruleset` pasted with iptables-save's output
_NFT_TABLE = re.compile(r"[ \t]*table[ \t]+(?:ip6?|inet|arp|bridge|netdev)[ \t]+\S+[ \t]*\{[ \t]*$")
_ANY_NFT_TABLE = _LineLed(r"[ \t]*table[ \t]+(?:ip6?|inet|arp|bridge|netdev)[ \t]+\S+[ \t]*\{[ \t]*\r?(?:\n|$)")


def _split_nft(text: str) -> list[str] | None:
    """``nft list ruleset`` and ``iptables-save`` in one paste (the author ran both, one after the other): the nft
    tables' blocks (from each "table … {" to its closing brace) as one text, the rest as the other, each with the
    other's lines emptied (comments in both). None when one of them is not there."""
    lines = text.split("\n")
    nft, rest = list(lines), list(lines)
    depth, kinds = 0, set()
    for i, line in enumerate(lines):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        if depth == 0 and not _NFT_TABLE.match(line):
            nft[i] = ""
            kinds.add("save" if _SAVE_SHAPED.match(line) else "other")
            continue
        rest[i] = ""
        kinds.add("nft")
        bare = _QUOTED.sub("", line.split(" #")[0])
        depth = max(0, depth + bare.count("{") - bare.count("}"))
    if {"nft", "save"} <= kinds:
        return ["\n".join(nft), "\n".join(rest)]
    return None


def marked_note(source: str, lines: list[int]) -> str:
    """Rule lines the author marked (an arrow, Markdown emphasis, a note after the rule): read without the marks."""
    return (f"{source}: the author's marks (arrows before, Markdown emphasis, '//', '<--' or '>>' notes after) "
            f"on {numbered('line', lines)} were read as no part of the rules")


def annotation_note(source: str, lines: list[int]) -> str:
    """Rule lines with the author's note after them ("# …", "// …", "<-- …", ">> [1]"), read without it."""
    return (f"{source}: text after '#', '//' or an arrow ('<--', '>>') on {numbered('line', sorted(lines))} "
            "is the author's note, not part of the rule (iptables prints none of them)")


def uncommented_note(source: str, lines: list[int]) -> str:
    """A command's output kept as "# " comments: read as the output."""
    return (f"{source}: every line is a '#' comment; {numbered('line', lines)} "
            "hold a rule listing (the command's output kept as comments under it) and were read without the '#'")


def repeated_note(source: str, lines: list[int]) -> str:
    """Rule lines the paste showed already (an earlier command's output, or a block quoting them again): read once."""
    return (f"{source}: {numbered('line', lines)} repeat{'' if len(lines) > 1 else 's'} "
            "rules shown earlier in the paste: each rule read once")


def relisted_note(source: str, chain: str, headers: list[int], dropped: list[int]) -> str:
    """A chain listed again with ``iptables -S``: which listing is read."""
    return (f"{source}: chain {chain} is listed {times(len(headers))} (-N at {numbered('line', headers)}): several moments "
            f"pasted together; its last listing is read, {numbered('line', dropped)} left out")


def rerun_note(source: str, command: str, last: int, dropped: list[tuple[int, int]], read: tuple[int, int] | None) -> str:
    """A listing command run again later in the paste (two moments): which run's output is read."""
    shown = command[:60] + ("…" if len(command) > 60 else "")
    left = f"; the output of its earlier run{'s' if len(dropped) > 1 else ''} ({numbered_spans('line', dropped)}) left out" if dropped else ""
    if read is not None:
        return (f"{source}: `{shown}` was run again at line {last} and printed nothing: the rules read (lines "
                f"{read[0]}-{read[1]}) are from before, and at line {last} none of them was printed any more{left}")
    return f"{source}: `{shown}` was run more than once (moments pasted together): its last run (line {last}) is read{left}"


def family_note(source: str, spans: list[tuple[int, int]], by_address: bool = False, undecided: list[int] | None = None) -> str:
    """ip6tables output beside iptables output: which family is read, and what to do for the other. ``by_address``: bare
    lines told apart by their addresses (no command printed them); ``undecided``: lines of either family, left out."""
    lines = numbered_spans("line", spans)
    how = ("their addresses are IPv6, or they jump to such an endpoint chain, or go on with such lines"
           if by_address else "ip6tables output")
    said = (f"{source}: the IPv4 rules (iptables) are read; the IPv6 family's ({lines}: {how}) are in "
            "the input but not analysed: kube-proxy writes the same chain names in both families, each with its own "
            f"endpoints, so they are not read as one table; for the IPv6 paths pass {lines} in a file of their own")
    if undecided:
        said += (f"; {numbered('line', undecided)}, between the two families' lines and showing no address, could be "
                 "either family's: left out (paste each family's output under its command)")
    return said


def restore_log_note(source: str, restore_log: tuple[int, int, list[tuple[int, int]], int | None]) -> str:
    """kube-proxy's log of its iptables-restore input: what was read, and what the form costs."""
    first, last, earlier, failed = restore_log
    said = (f"{source}: lines {first}-{last} are kube-proxy's log of the iptables-restore input it wrote (\"Restoring "
            "iptables\", logged at -v=5 or more), read as that input without the log's prefixes: it carries no counters, "
            "and it is what kube-proxy asked for at that sync, not what the node's tables hold")
    if earlier:
        said += f"; the earlier syncs' input (lines {line_spans(earlier, None)}) left out, the last one read"
    if failed is not None:
        said += (f"; kube-proxy logged right after it (line {failed}) that iptables-restore failed: these rules may never "
                 "have been applied")
    return said


def left_out_note(source: str, left_out: list[tuple[int, int, str]]) -> str:
    """Other commands' output around the rules, emptied before reading: where, and which command printed it."""
    parts = [f"{f'line {a}' if a == b else f'lines {a}-{b}'} " + (f"({c})" if c in (LOG, TABLE, WORDS) else f"(`{c[:60]}{'…' if len(c) > 60 else ''}` output)")
             for a, b, c in left_out[:6]]
    more = f" and {len(left_out) - 6} more" if len(left_out) > 6 else ""
    return f"{source}: not rule output, left out: {', '.join(parts)}{more}"


def excerpt_note(source: str, lines: list[int]) -> str:
    return (f"{source} is an excerpt (cut at {numbered('line', lines)}): "
            "what it does not show may exist, so nothing is said to be absent")
