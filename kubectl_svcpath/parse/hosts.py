"""Several hosts' listings in one paste: whose lines are whose.

People run the same grep on several nodes and paste it all: pdsh or clush put the host before each line
("node1: -A KUBE-SVC-…"), ansible and pssh print a header above each host's output ("node1 | CHANGED | rc=0
>>", "[1] 12:00:01 [SUCCESS] node1"), dshbak -c and clush -b one above the lines several hosts printed alike
("node[1,3]" between lines of dashes), a shell loop may echo each host's name first, and a walk from node to
node shows each host's prompt ("root@node1:~# …", "[root@node2 ~]# …"). Read as one text, the hosts' rules
would be one node's: the same rule twice, counters summed, a chain of two nodes' endpoints. host_parts() gives
each host's own text (the other hosts' lines blanked, the prefixes taken off, line numbers kept). A loop over
hosts whose output does not say which lines are whose cannot be split: refused (NotSplit).

Looked for only in inputs that are not a tool's own output (pipeline.split_nodes), each form by its literal
first (str.find at C speed), so a big listing without them costs nothing more.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from kubectl_svcpath.parse.excerpt import PROMPT, RULE_TOOL

_HOST = r"[A-Za-z0-9][\w.-]{0,62}"
# pdsh's and clush's "host: " before each line; the host counts when a listing's own line follows it: iptables-save's
# shapes, a chain's head of iptables -L, nft's table, ipvsadm's title
_PREFIX = re.compile(rf"({_HOST}):(?: |$)")
_LISTED_REST = re.compile(r"(?:\[\d+:\d+\] ?)?-[AINX] \S|:\S+ \S+ \[\d+:\d+\]|\*(?:filter|nat|mangle|raw|security)\s*$|"
                          r"COMMIT\s*$|# (?:Generated|Completed) |Chain \S+ \(|table (?:ip6?|inet) \S+ \{|IP Virtual Server ")
_PREFIXED_LITERALS = (": -A ", ": [", ": Chain ", ": table ", ": IP Virtual Server ")
_PDSH_SAYS = re.compile(r"(pdsh@[\w.-]+): ")  # pdsh's own words ("pdsh@admin: node3: ssh exited with exit code 255")
# the author's words before a rule ("Output: -A KUBE-SERVICES …"), no host
_WORDS = frozenset(("output", "result", "results", "example", "before", "after", "note", "rule", "rules", "expected",
                    "actual", "got", "see", "now", "then", "old", "new", "here", "e.g", "i.e"))
# a header above each host's output: ansible's ad-hoc "host | CHANGED | rc=0 >>", pssh -i's "[1] 12:00:01 [SUCCESS] host"
_HEADER = re.compile(rf"\s*(?:({_HOST}) \| (?:CHANGED|SUCCESS|FAILED!?) \| rc=-?\d+ >>|"
                     rf"\[\d+\] \d\d:\d\d:\d\d \[(?:SUCCESS|FAILURE)\] ({_HOST})(?::\d+)?)\s*$")
# a shell loop running the listing on each host: "for n in node1 node2; do ssh $n sudo iptables-save | grep x; done"
# (docker/kubectl exec into kind nodes or pods likewise); its hosts are the words of its list
_LOOP = re.compile(r"\bfor\s+(\w+)\s+in\s+([^;]+?)\s*;\s*do\b(.*)")
# (kubectl's flags may come before its exec: "kubectl -n kube-system exec $p -- …")
_REMOTE = r"(?:ssh|docker\s+exec|podman\s+exec|crictl\s+exec|(?:kubectl|k|oc)\s+(?:[^;|]*?\s)?exec|lxc\s+exec|multipass\s+exec)\b[^;|]*?\$\{?"
# a line a loop printed before each host's output: the host's name alone, maybe dressed ("== node1 ==", ">>> node1", "node1:")
_DRESSING = " \t=-#>*:[]"
# a prompt naming its host: "root@node1:~# …", "[root@node2 ~]$ …", "➜ lab@k8s1 …"
_HOST_PROMPT = re.compile(rf"\s*(?:\u279c\s+)?\[?[\w.-]+@({_HOST})[^\n]{{0,80}}?[$#%](?:\s|$)")
# the same, led by a literal newline: found in C in a big listing (whose nft sets' "@" lines are no prompts)
_ANY_HOST_PROMPT = re.compile(rf"\n[ \t]*(?:\u279c[ \t]+)?\[?[\w.-]+@({_HOST})[^\n]{{0,80}}?[$#%](?=[ \t\n]|$)")
MAX_HEAD = 65536
# the commands that run a listing on a host they name, and their options that take a value (skipped with it)
_TARGETING = {
    "ssh": {"-B", "-b", "-c", "-D", "-E", "-e", "-F", "-I", "-i", "-J", "-L", "-l", "-m", "-O", "-o", "-p", "-Q", "-R", "-S", "-W", "-w"},
    "docker exec": {"-u", "--user", "-e", "--env", "-w", "--workdir", "--env-file"},
    "podman exec": {"-u", "--user", "-e", "--env", "-w", "--workdir", "--env-file"},
    "nerdctl exec": {"-u", "--user", "-e", "--env", "-w", "--workdir"},
    "multipass exec": set(), "lxc exec": set(), "vagrant ssh": {"-c", "--command"},
}
# kubectl's flags that take a value, global and exec's own (`kubectl -n kube-system exec -c kube-proxy POD -- …`): the
# pod is the first other word after "exec"
_KUBECTL_VALUED = {"-n", "--namespace", "--context", "--kubeconfig", "--cluster", "--user", "-s", "--server", "--token", "--as",
                   "--as-group", "--as-uid", "--request-timeout", "--cache-dir", "--certificate-authority", "--client-certificate",
                   "--client-key", "--tls-server-name", "-v", "--v", "-c", "--container", "-f", "--filename",
                   "--pod-running-timeout", "--image", "--profile", "--target", "--copy-to", "--env", "--custom"}
KUBECTL_EXEC = "the kubectl exec commands that printed them"
POD = "pod/"  # a host that is a pod `kubectl exec` ran in (heads: "pod/NAME"): the paste does not tell its node
# the name `kubectl get pods -o name` prints, as a loop over them echoes it before each pod's output
_POD_NAME = re.compile(r"pods?/([a-z0-9](?:[-a-z0-9.]{0,251}[a-z0-9])?)")
# dshbak -c's and clush -b's header: a line of dashes, the hosts ("node[1,3]", "node[1-2] (2)"), a line of dashes
_DASHES = re.compile(r"-{5,}\s*$")
_HOST_SET = re.compile(r"\s*([A-Za-z0-9][\w.\-]*(?:\[[\d,\-]+\][\w.\-]*)?(?:,[A-Za-z0-9][\w.\-]*(?:\[[\d,\-]+\][\w.\-]*)?)*)(?: \(\d+\))?\s*$")
_COUNTERS = re.compile(r"^\[\d+:\d+\]\s*")
# a line of a rule listing of any form (excerpt's _RULE_START): a host section holding one printed rules
_LISTING = re.compile(r"\s*(?:\d+:)*(?:\[\d+:\d+\]\s*)?(?:-[ANIX]\s+\S|:\S+\s+\S+\s+\[|\*[a-z]+\s*$|COMMIT\s*$|Chain\s+\S+\s+\(|"
                      r"table\s+\w+\s+\S+\s*\{|IP Virtual Server|Prot LocalAddress|(?:TCP|UDP|SCTP)\s+\S+:\d+)")


@dataclass(slots=True)
class HostPart:
    host: str
    text: str  # the paste with the other hosts' lines blank, this host's prefixes taken off
    lines: list[tuple[int, int]] = field(default_factory=list)  # (first, last) line of each of its sections
    how: str = ""  # "pdsh/clush prefixes", "ansible/pssh headers", "dshbak/clush -b headers", "prompts", "the hosts its
    # commands ran on (ssh, docker exec …)", KUBECTL_EXEC, "a loop's echoed names"
    pod: bool = False  # ``host`` is the pod `kubectl exec` ran in, not a node: which node it is on, the paste does not say


class NotSplit(Exception):
    """A loop over several hosts (or one command line running the listing on several) whose output does not say which
    lines are whose; ``pods``: the hosts are pods `kubectl exec` runs in."""

    def __init__(self, line: int, command: str, hosts: list[str], pods: bool = False) -> None:
        super().__init__(command)
        self.line, self.command, self.hosts, self.pods = line, command, hosts, pods


def host_parts(text: str, prompts: bool = True, save_lines: bool = False) -> list[HostPart]:
    """Each host's part of ``text`` when its lines are told apart by host (pdsh prefixes, headers, a loop's echoed
    names, prompts): one part per host (one for a single host's prefixed lines: the prefixes still go; one for a
    single pod's `kubectl exec`: the report names the pod); [] when the paste shows no host, or one host's prompts.
    Prefixes, headers and loops start a paste: looked for in its first 64 KiB. ``prompts``: the caller's cleaning
    found prompts or commands; ``save_lines``: every line but the first has iptables-save's shapes (only that line
    can be a loop's command). Raises NotSplit for a loop over hosts whose output names none of them, or a command
    line that runs the listing on several."""
    if save_lines:
        first = text.find("\n")
        return _loop(text.split("\n")) if "for " in text[:first if first >= 0 else len(text)][:MAX_HEAD] else []
    head = text[:MAX_HEAD]
    if any(literal in head for literal in _PREFIXED_LITERALS):
        parts = _prefixed(text.split("\n"))
        if parts:
            return parts
    if " | rc=" in head or "] [SUCCESS] " in head or "] [FAILURE] " in head:
        lines = text.split("\n")
        parts = _sections(lines, [_header_host(line) for line in lines], "ansible/pssh headers")
        if parts:
            return parts
    if "\n-----" in head or head.startswith("-----"):
        parts = _gathered(text.split("\n"))
        if parts:
            return parts
    if "for " in head and "do" in head:
        parts = _loop(text.split("\n"))
        if parts:
            return parts
    targets = "ssh " in text or "exec " in text or "debug " in text
    if prompts and (targets or "@" in text and len(_prompt_hosts(text)) > 1):
        lines = text.split("\n")
        ran_on = [_targets_of(line, n) if targets else None for n, line in enumerate(lines, 1)]
        heads = [on or _prompt_host(line) for on, line in zip(ran_on, lines, strict=True)]
        how = ("prompts" if not any(ran_on) else KUBECTL_EXEC if all(h.startswith(POD) for h in ran_on if h)
               else "the hosts its commands ran on (ssh, docker exec …)")
        parts = _sections(lines, heads, how)
        if len(parts) > 1 or parts and parts[0].pod:  # (one pod: the report says which pod, its lines as they are)
            return parts
    return []


def _targets_of(line: str, number: int) -> str | None:
    """The host a command line runs its listing on (_target_host); a line that runs it on several, one after the other
    ("kubectl exec kube-proxy-a -- iptables-save; kubectl exec kube-proxy-b -- iptables-save"), cannot say which of
    the lines under it are whose: NotSplit."""
    if ";" not in line and "&&" not in line:
        return _target_host(line)
    prompt = PROMPT.match(line.strip())
    pieces = re.split(r";|&&|\|\|", line.strip()[prompt.end() - 1:] if prompt else line)
    # (a piece that writes to a file prints nothing here: "kubectl exec a -- iptables-save > a.txt; kubectl exec b …")
    hosts = list(dict.fromkeys(h for h in map(_target_host, (p for p in pieces if ">" not in p)) if h))
    if len(hosts) > 1:
        raise NotSplit(number, line.strip(), [h.removeprefix(POD) for h in hosts], pods=all(h.startswith(POD) for h in hosts))
    return hosts[0] if hosts else None


def _prefixed(lines: list[str]) -> list[HostPart]:
    """pdsh/clush: "host: " before each line of the hosts' output."""
    hosts: dict[str, None] = {}
    for line in lines:
        m = _PREFIX.match(line)
        if m is not None and m.group(1) not in hosts and _LISTED_REST.match(line, m.end()) and m.group(1).lower() not in _WORDS:
            hosts[m.group(1)] = None
    if not hosts:
        return []
    owner: list[str | None] = []
    for line in lines:
        m = _PREFIX.match(line) or _PDSH_SAYS.match(line)
        # (another host's line that holds no rule, "node3: ssh: connect to host node3 …", pdsh's own: no one's)
        owner.append(None if m is None else m.group(1) if m.group(1) in hosts else "")
    parts = []
    for host in hosts:
        own = [line[len(host) + 2:] if who == host else "" if who is not None else line for line, who in zip(lines, owner, strict=True)]
        parts.append(HostPart(host, "\n".join(own), _spans([i for i, who in enumerate(owner) if who == host], lines), "pdsh/clush prefixes"))
    return parts


def _header_host(line: str) -> str | None:
    m = _HEADER.match(line) if ("|" in line or "[" in line) else None
    return None if m is None else (m.group(1) or m.group(2))


def _prompt_hosts(text: str) -> set[str]:
    """The hosts of the prompts in ``text`` (a C scan, led by each line's newline)."""
    first = _HOST_PROMPT.match(text)
    return set(_ANY_HOST_PROMPT.findall(text)) | ({first.group(1)} if first is not None else set())


def _target_host(line: str) -> str | None:
    """The host a command line runs its rule listing on: "$ ssh -i key node1 sudo iptables-save | grep x", "docker exec
    kind-worker2 iptables-save", "multipass exec node2 -- …", "minikube ssh -n m02 -- …" (None: not such a line)."""
    if "ssh " not in line and "exec " not in line and "debug " not in line:
        return None
    body = line.strip()
    prompt = PROMPT.match(body)
    words = (body[prompt.end() - 1:] if prompt else body).split()
    while words and words[0] == "sudo":
        words = words[1:]
    if len(words) < 3 or not RULE_TOOL.search(" ".join(words).replace("'", " ").replace('"', " ")):  # (ssh h 'iptables-save …')
        return None
    if words[0] in ("kubectl", "k", "oc"):  # (kubectl's common alias, and OpenShift's oc: the same exec)
        return _kubectl_target(words[1:])
    tool, rest = (words[0], words[1:]) if words[0] == "ssh" else (" ".join(words[:2]), words[2:])
    if tool == "minikube ssh":  # the node by -n/--node, else the cluster's only (first) node: no name
        for k, w in enumerate(rest):
            if w in ("-n", "--node") and k + 1 < len(rest):
                return _host_word(rest[k + 1])
            if w.startswith("--node="):
                return _host_word(w.removeprefix("--node="))
        return None
    if tool not in _TARGETING:
        return None
    with_value = _TARGETING[tool]
    k = 0
    while k < len(rest) and rest[k].startswith("-"):
        k += 2 if rest[k] in with_value else 1
    return _host_word(rest[k]) if k < len(rest) - 1 else None


def _kubectl_target(words: list[str]) -> str | None:
    """`kubectl [flags] exec [flags] POD [--] CMD`: "pod/POD"; `kubectl debug node/NODE … -- CMD`: "NODE" (its pod runs
    in the node's network namespace: the node's rules). None: another command, or a target that names neither, as
    ds/kube-proxy (the API picks one of its pods, and the paste does not say which)."""
    k, command = 0, None
    while k < len(words) and words[k] != "--":
        word = words[k]
        if word.startswith("-"):
            k += 2 if word in _KUBECTL_VALUED else 1
            continue
        if command is None:
            if word not in ("exec", "debug"):
                return None  # (another kubectl command: logs, get …)
            command, k = word, k + 1
            continue
        if k == len(words) - 1:
            return None  # (no command after the target)
        if command == "debug" and word.startswith(("node/", "nodes/")):
            return _host_word(word.split("/", 1)[1])
        m = _POD_NAME.fullmatch(word) if "/" in word else _POD_NAME.fullmatch(POD + word)
        return POD + m.group(1) if m is not None else None
    return None


def _host_word(word: str) -> str | None:
    host = word.rsplit("@", 1)[-1]
    return host if re.fullmatch(_HOST, host) else None


def _prompt_host(line: str) -> str | None:
    m = _HOST_PROMPT.match(line) if "@" in line else None
    return m.group(1) if m is not None else None


def _sections(lines: list[str], heads: list[str | None], how: str) -> list[HostPart]:
    """Each host's sections: from a line naming it (a header, a prompt) to the next such line; the lines before
    the first are every host's (the command, the author's words). Hosts whose sections hold no listing line
    (a prompt of another command, a run that failed) are left out; a header line is blanked (no listing's)."""
    owner: list[str | None] = []
    current: str | None = None
    for head in heads:
        current = head if head is not None else current
        owner.append(current)
    printed = dict.fromkeys(who for line, who in zip(lines, owner, strict=True) if who is not None and _LISTING.match(line))
    if not printed:
        return []
    # (a command line is the cleaner's to read: the run under it)
    keep_heads = how in ("prompts", KUBECTL_EXEC) or how.startswith("the hosts")
    parts = []
    for host in printed:
        own = ["" if (who is not None and who != host) or (heads[i] is not None and not keep_heads) else line
               for i, (line, who) in enumerate(zip(lines, owner, strict=True))]
        parts.append(HostPart(host.removeprefix(POD), "\n".join(own), _spans([i for i, who in enumerate(owner) if who == host], lines),
                              how, pod=host.startswith(POD)))
    return parts


def _gathered(lines: list[str]) -> list[HostPart]:
    """`pdsh … | dshbak -c` and `clush -b`: each block's hosts between two lines of dashes ("node[1,3]", "node[1-2] (2)"),
    then the lines those hosts printed alike: each host's part is the blocks that name it (the header lines blank)."""
    blocks: list[tuple[list[str], int]] = []  # (hosts, the index of the header's first line)
    for i in range(len(lines) - 2):
        if lines[i].startswith("-----") and _DASHES.match(lines[i]) and _DASHES.match(lines[i + 2]) and (m := _HOST_SET.match(lines[i + 1])) is not None:
            blocks.append((_expanded(m.group(1)), i))
    if not blocks or blocks[0][1] > 2 and any(_LISTING.match(line) for line in lines[:blocks[0][1]]):
        return []  # (rules before the first header: no such output)
    heads = {i + k for _, i in blocks for k in range(3)}
    spans = [(hosts, i + 3, blocks[n + 1][1] if n + 1 < len(blocks) else len(lines)) for n, (hosts, i) in enumerate(blocks)]
    parts = []
    for host in dict.fromkeys(h for hosts, _ in blocks for h in hosts):
        own = {k for hosts, a, b in spans if host in hosts for k in range(a, b)}
        text = "\n".join("" if k in heads or (k >= blocks[0][1] and k not in own) else line for k, line in enumerate(lines))
        parts.append(HostPart(host, text, _spans(sorted(own), lines), "dshbak/clush -b headers"))
    return parts if any(_LISTING.match(line) for part in parts[:1] for line in part.text.split("\n")) else []


def _expanded(hostset: str) -> list[str]:
    """pdsh's host list: "node[1-3,5]", "n[01-02].lan", "a,b" -> each host (a range of at most 1,000)."""
    out: list[str] = []
    for item in re.findall(r"[^,\[]+(?:\[[^\]]*\][^,\[]*)*", hostset):
        m = re.fullmatch(r"([^\[]*)\[([\d,\-]+)\](.*)", item)
        if m is None:
            out.append(item)
            continue
        for piece in m.group(2).split(","):
            lo, _, hi = piece.partition("-")
            width = len(lo) if lo.startswith("0") else 0
            for n in range(int(lo), int(hi or lo) + 1) if lo.isdigit() and (hi or lo).isdigit() and int(hi or lo) - int(lo) < 1000 else ():
                out.append(f"{m.group(1)}{n:0{width}d}{m.group(3)}")
    return list(dict.fromkeys(out))


def _loop(lines: list[str]) -> list[HostPart]:
    """A loop running the listing on each host of its list: split where it echoed each host's name, else NotSplit."""
    for i, line in enumerate(lines):
        m = _LOOP.search(line) if "for " in line else None
        if m is None or not RULE_TOOL.search(m.group(3)) or re.search(_REMOTE + m.group(1) + r"\b", m.group(3)) is None:
            continue
        hosts = m.group(2).split()
        named = set(hosts) if not any(c in m.group(2) for c in "$`{*") else set()
        if len(named) == 1:
            return []  # one host: its output is that host's
        pods = re.search(r"\b(?:kubectl|k|oc)\s+(?:[^;|]*?\s)?exec\b", m.group(3)) is not None
        heads: list[str | None] = [None] * (i + 1)
        heads += [_echoed(line2, named, pods) for line2 in lines[i + 1:]]
        if any(heads):  # (the loop's line a comment: without a prompt, no reader would take it for a command)
            return _sections([*lines[:i], "# " + line.strip(), *lines[i + 1:]], heads, "a loop's echoed names")
        # hosts it names, or a list it does not ("$NODES", "$(kubectl get nodes …)") whose output shows a rule twice
        if any(_LISTING.match(line2) for line2 in lines[i + 1:]) and (named or _a_rule_twice(lines[i + 1:])):
            raise NotSplit(i + 1, m.group(0).strip(), hosts, pods)
        return []
    return []


def _echoed(line: str, named: set[str], pods: bool) -> str | None:
    """The host a loop echoed before its output ("== node1", ">>> kube-proxy-abcde"; a kubectl exec loop's pod as `kubectl
    get pods -o name` prints it, "pod/kube-proxy-abcde", also from a list it does not name): None when not such a line."""
    word = line.strip(_DRESSING)
    if not pods:
        return word if word in named else None
    m = _POD_NAME.fullmatch(word) if "/" in word else None
    return POD + m.group(1) if m is not None else POD + word if word in named else None


def _a_rule_twice(lines: list[str]) -> bool:
    """A rule line printed twice (its counters aside): several hosts' output of one grep."""
    seen: set[str] = set()
    for line in lines:
        rule = _COUNTERS.sub("", line.strip(), count=1)
        if rule.startswith("-A "):
            if rule in seen:
                return True
            seen.add(rule)
    return False


def _spans(numbers: list[int], lines: list[str]) -> list[tuple[int, int]]:
    """0-based line indexes -> 1-based (first, last) runs, without the blank lines at a run's ends."""
    runs: list[list[int]] = []
    for n in numbers:
        if runs and runs[-1][1] == n - 1:
            runs[-1][1] = n
        else:
            runs.append([n, n])
    out = []
    for a, b in runs:
        while a <= b and not lines[b].strip():
            b -= 1
        while a <= b and not lines[a].strip():
            a += 1
        if a <= b:
            out.append((a + 1, b + 1))
    return out


def line_spans(spans: list[tuple[int, int]], most: int = 6) -> str:
    """"1-3, 7, 9-12" (the first ``most`` runs, the rest counted)."""
    shown = ", ".join(f"{a}-{b}" if a != b else str(a) for a, b in spans[:most])
    return shown + (f" and {len(spans) - most} more" if len(spans) > most else "")
