"""Fuzz cases, deterministic by seed: mutations of real dumps and of the example manifest.

Each case is a set of input files plus the command line a user would type. The bases are the
shared dumps (shared/dumps, read-only), the bundled hello-service example and the IPVS fixtures,
one or more per input form (iptables-save, bare ``-A`` lines, ``iptables -L -n -v``, nft text,
``nft -j``, ``ipvsadm -Ln``, conntrack, the manifest). The mutations are what an attacker or a
careless paste produces: hostile strings in every field (control characters, ESC sequences,
bidi overrides, NUL), numbers past every limit, deep nesting, long lines, truncation, YAML
aliases, wrong types, and sheer size (many jumps, endpoints, real servers, map elements).
"""

from __future__ import annotations

import functools
import json
import random
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from collections.abc import Callable

import yaml

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "kubectl_svcpath" / "examples" / "hello-service"
IPVS = ROOT / "tests" / "fixtures" / "ipvs"
CORPUS = ROOT / "tests" / "corpus"
FORMATS = ("table", "wide", "tree", "json", "yaml")
TERMINAL_FORMATS = ("table", "wide", "tree")

HOSTILE = [
    "\x1b[2J\x1b[H", "\x1b]0;pwned\x07", "\x1b]8;;http://evil/\x1b\\link\x1b]8;;\x1b\\", "\x1b[31mred\x1b[0m",
    "\u202egnp.exe", "\u2066iso\u2069", "\u200f", "\x00", "\r", "a\rb", "\x7f", "\x9b2J", "\x85", "\x08\x08\x08",
    "\u2028", "\u2029", "\ufeff", "\t", "\x0b\x0c", '"', "'", "\\", "\\x1b[2J", "%s%n", "{}", "$(id)", "`id`",
    "../../etc/passwd", "\udcff", "é" * 3, "\U0001f4a9", "\u0301" * 20, "A" * 5000, "",
]
NUMBERS = ["9" * 5000, "-1", "1.5", "1e3", "0x10", "nan", "inf", "-0", "18446744073709551616", "99999999999999999999",
           "1_000", "٣", "+5", "0" * 400 + "7", ""]


class FileArg(str):
    """An argument that is the path of one of the case's input files."""


@dataclass
class Case:
    index: int
    form: str
    mutation: str
    files: dict[str, bytes]
    args: list[str]  # a FileArg stands for the path of that input file
    output: str
    stdin: bytes | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def size(self) -> int:
        return sum(len(b) for b in self.files.values())

    def argv(self, directory: Path) -> list[str]:
        return [str(directory / a) if isinstance(a, FileArg) else a for a in self.args] + ["-o", self.output]


# --- the bases ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class Base:
    form: str  # the rule dump's form ("manifest" for the manifest-first cases)
    rules: tuple[Path, ...]
    services: tuple[str, ...]  # SERVICE arguments that name something in the rules (none: --all only)
    manifest: Path | None = None


def bases(shared: Path) -> list[Base]:
    d = shared / "dumps"
    ex_manifest = EXAMPLE / "manifest.yaml"
    out = [
        Base("iptables-save", (EXAMPLE / "iptables-save-on-node-host.txt",), ("hello-service",), ex_manifest),
        Base("iptables-save", (EXAMPLE / "iptables-save-in-kube-proxy-pod.txt",), ("default/hello-service",)),
        Base("iptables-save", (d / "repo-blog-flannel-k8s-master-iptables-save.txt",), ("default/jtest", "kube-system/kube-dns")),
        Base("iptables-save", (d / "derived-netns-iptables-nft-save-from-upstream-TestOverallIPTablesRules.txt",), ("ns2/svc2", "ns5/svc5")),
        Base("iptables-save", (d / "upstream-iptables-proxier-test-TestOverallIPTablesRules.txt",), ("ns4/svc4", "ns6/svc6")),
        Base("iptables-save", (d / "repo-sessionaffinity-experiment-test-my-nginx-before.txt",), ("test/my-nginx",)),
        Base("iptables-lines", (EXAMPLE / "iptables-save-on-node-host.txt",), ("hello-service",), ex_manifest),
        Base("iptables-lines", (d / "repo-blog-flannel-k8s-master-iptables-save.txt",), ("default/jtest",)),
        Base("iptables-list", (EXAMPLE / "iptables-L-in-kube-proxy-pod.txt",), ("hello-service",), ex_manifest),
        Base("iptables-list", (d / "derived-netns-iptables-L-n-v-x-nat-from-upstream-TestOverallIPTablesRules.txt",), ("ns2/svc2",)),
        Base("nft-text", (EXAMPLE / "nft-list-table-ip-nat.txt",), ("hello-service",), ex_manifest),
        Base("nft-text", (d / "derived-netns-nft-list-table-ip-kube-proxy-from-upstream-TestOverallNFTablesRules.txt",), ("ns4/svc4", "ns5/svc5")),
        Base("nft-text", (d / "repo-k3s-nft-list-table-ip-kube-proxy.txt",), ("riset/hellopod-np-svc",)),
        Base("nft-text", (d / "upstream-nftables-proxier-test-TestOverallNFTablesRules.txt",), ("ns2/svc2",)),
        Base("nft-json", (EXAMPLE / "nft-list-table-ip-nat.json",), ("hello-service",), ex_manifest),
        Base("nft-json", (d / "derived-netns-nft-json-list-table-ip-kube-proxy-from-upstream-TestOverallNFTablesRules.json",), ("ns4/svc4", "ns5/svc5")),
        Base("ipvsadm", (IPVS / "hello-ipvsadm-Ln-stats-exact.txt", IPVS / "hello-iptables-save.txt"), ("hello-service",), ex_manifest),
        Base("ipvsadm", (IPVS / "dns-ipvsadm-Ln-stats.txt",), ("kube-system/kube-dns",), IPVS / "dns-services.yaml"),
        Base("ipvsadm", (d / "upstream-ipvs-readme-ipvsadm-ln.txt",), ("kube-system/kube-dns",), IPVS / "readme-services.yaml"),
        Base("conntrack", (EXAMPLE / "nft-list-table-ip-nat.json",), ("hello-service",), ex_manifest),
        Base("manifest", (EXAMPLE / "iptables-save-on-node-host.txt",), ("hello-service",), ex_manifest),
        Base("manifest", (IPVS / "hello-ipvsadm-Ln-stats-exact.txt",), ("hello-service",), ex_manifest),
    ]
    out += corpus_bases(shared)
    return [b for b in out if all(p.exists() for p in b.rules)]


def corpus_bases(shared: Path) -> list[Base]:
    """Every real paste of tests/corpus (iptables -L listings, grep output, bare -A lines, ipvsadm with
    '>>>' node headers, nft excerpts, '...' cuts, prompts), read with the Services its facts name."""
    out = []
    for facts_file in sorted(CORPUS.glob("*.facts.yaml")):
        facts = yaml.safe_load(facts_file.read_text(encoding="utf-8"))
        pastes = facts["paste"] if isinstance(facts["paste"], list) else [facts["paste"]]
        paths = tuple(shared / p.removeprefix("shared:") if p.startswith("shared:") else CORPUS / p for p in pastes)
        services = tuple(dict.fromkeys(str(sv["name"]).split(":")[0] for sv in facts.get("services") or []))
        out.append(Base(f"paste-{str(facts.get('form', '?')).split()[0]}", paths, services))
    return out


CONNTRACK = """\
tcp      6 431999 ESTABLISHED src=172.18.0.1 dst=10.101.173.15 sport=40000 dport=39090 src=192.168.189.15 dst=172.18.0.1 sport=9090 dport=40000 [ASSURED] mark=0 use=1
tcp      6 117 TIME_WAIT src=172.18.0.1 dst=172.18.0.2 sport=40001 dport=31576 packets=6 bytes=395 src=192.168.189.15 dst=172.18.0.1 sport=9191 dport=40001 packets=5 bytes=620 [ASSURED] mark=0 use=1
udp      17 29 src=172.18.0.1 dst=10.101.173.15 sport=5353 dport=49191 [UNREPLIED] src=192.168.189.15 dst=172.18.0.1 sport=9191 dport=5353 mark=0 use=1
ipv4     2 tcp      6 300 ESTABLISHED src=172.18.0.1 dst=10.101.173.15 sport=40002 dport=39090 src=192.168.189.15 dst=172.18.0.1 sport=9090 dport=40002 [ASSURED] mark=0 zone=0 use=2
"""


def _base_text(base: Base) -> str:
    text = base.rules[0].read_text(encoding="utf-8")
    if base.form == "iptables-lines":  # what `grep -- -A` pastes: bare rules, counters stripped
        text = "\n".join(re.sub(r"^\[\d+:\d+\] ", "", ln) for ln in text.splitlines() if "-A " in ln) + "\n"
    elif base.form == "conntrack":
        text = CONNTRACK
    return text


# --- text mutations ------------------------------------------------------------------------------

def _tokens(text: str) -> list[tuple[int, int]]:
    return [(m.start(), m.end()) for m in re.finditer(r'"[^"\n]*"|[^\s"]+', text)]


def m_hostile_token(rng: random.Random, text: str) -> str:
    toks = _tokens(text)
    for _ in range(rng.randint(1, 4)):
        if not toks:
            break
        s, e = rng.choice(toks)
        tok = text[s:e]
        h = rng.choice(HOSTILE)
        if tok.startswith('"') and len(tok) > 2:  # inside a quoted comment / name
            cut = rng.randint(1, len(tok) - 1)
            new = tok[:cut] + h.replace('"', "") + tok[cut:]
        else:
            new = rng.choice([h, tok + h, h + tok, tok[: len(tok) // 2] + h + tok[len(tok) // 2:]])
        text = text[:s] + new + text[e:]
        toks = _tokens(text)
    return text


def m_number(rng: random.Random, text: str) -> str:
    nums = [(m.start(), m.end()) for m in re.finditer(r"\d+(?:\.\d+)?", text)]
    for _ in range(rng.randint(1, 3)):
        if not nums:
            break
        s, e = rng.choice(nums)
        text = text[:s] + rng.choice(NUMBERS) + text[e:]
        nums = [(m.start(), m.end()) for m in re.finditer(r"\d+(?:\.\d+)?", text)]
    return text


def m_truncate(rng: random.Random, text: str) -> str:
    return text[: rng.randint(0, len(text))]


def m_lines(rng: random.Random, text: str) -> str:
    lines = text.splitlines(True)
    if not lines:
        return text
    op = rng.choice(["delete", "duplicate", "swap", "ellipsis", "blank", "crlf"])
    i = rng.randrange(len(lines))
    j = min(len(lines), i + rng.randint(1, 20))
    if op == "delete":
        del lines[i:j]
    elif op == "duplicate":
        lines[i:i] = lines[i:j] * rng.randint(1, 50)
    elif op == "swap":
        k = rng.randrange(len(lines))
        lines[i], lines[k] = lines[k], lines[i]
    elif op == "ellipsis":
        lines[i:j] = ["...\n"]
    elif op == "blank":
        lines[i:j] = ["\n"] * (j - i)
    else:
        lines = [ln.replace("\n", "\r\n") for ln in lines]
    return "".join(lines)


def m_long_line(rng: random.Random, text: str) -> str:
    lines = text.splitlines(True)
    i = rng.randrange(len(lines) + 1)
    filler = rng.choice(["A", "-A KUBE-SERVICES ", "x ", "\"", "{", "[", "0"])
    line = filler * (rng.choice([10_000, 200_000, 2_000_000]) // len(filler))
    lines.insert(i, line + "\n")
    return "".join(lines)


def m_bytes(rng: random.Random, text: str) -> str:
    chars = list(text)
    for _ in range(rng.randint(1, 30)):
        if not chars:
            break
        chars[rng.randrange(len(chars))] = chr(rng.choice([0, 1, 7, 8, 0x1b, 0x7f, 0x85, 0x9b, 0x202e, rng.randrange(32, 127)]))
    return "".join(chars)


CUT_MARKS = ["...", "......", "…", "[snip]", "[...]", "<truncated>", "-- more --", "--", "... 200 more lines ...",
             "(snipped)", "snip", "  ...  }", "[snip \x1b[2J]", "...\u202e", "[" + "snip " * 2000 + "]", "<" * 5000]


def m_excerpt(rng: random.Random, text: str) -> str:
    """What authors do to a paste: cut it and mark the cut, put their prompt and command above it."""
    lines = text.splitlines(True)
    for _ in range(rng.randint(1, 5)):
        i = rng.randrange(len(lines) + 1)
        j = min(len(lines), i + rng.choice([0, 0, 1, 5, 50]))
        mark = rng.choice(CUT_MARKS + [
            "$ iptables -t nat -L -n -v", "[root@node ~]# iptables-save -c", "root@kind-worker:/# nft -a list ruleset",
            "controlplane $ ipvsadm -Ln", "From the KUBE-SERVICES chain:", "# " + rng.choice(HOSTILE), "$ " + rng.choice(HOSTILE)])
        lines[i:j] = [mark + "\n"]
    return "".join(lines)


def m_nodes(rng: random.Random, text: str) -> str:
    """Several nodes' listings in one paste, each under a '>>> node' header (pssh, ansible)."""
    lines = text.splitlines(True)
    cuts = sorted(rng.sample(range(len(lines) + 1), min(len(lines) + 1, rng.randint(1, 4))))
    host = rng.choice(["172.27.138.251", "node-1", "", rng.choice(HOSTILE), "10.0.0." + rng.choice(NUMBERS)])
    out: list[str] = []
    prev = 0
    for n, c in enumerate([*cuts, len(lines)]):
        out += lines[prev:c]
        if c < len(lines) or rng.random() < 0.2:
            out.append(f">>> {host}{n if n else ''}\n" if rng.random() < 0.8 else rng.choice([">>>\n", ">>> \x1b[2J\n", "<<< x\n"]))
        prev = c
    return "".join(out)


def m_handles(rng: random.Random, text: str) -> str:
    """`nft -a`: '# handle N' after chains and rules (odd N, hostile text after the '#' too)."""
    out = []
    for ln in text.splitlines(True):
        body = ln.rstrip("\n")
        if body.strip() and rng.random() < 0.7:
            n = rng.choice([str(rng.randint(1, 400)), str(rng.randint(1, 400)), rng.choice(NUMBERS)])
            body += rng.choice([f" # handle {n}", f" # handle {n}", f"# handle {n}", f" # {rng.choice(HOSTILE)}", " #"])
        out.append(body + ("\n" if ln.endswith("\n") else ""))
    return "".join(out)


TEXT_MUTATIONS: dict[str, Callable[[random.Random, str], str]] = {
    "hostile-token": m_hostile_token, "number": m_number, "truncate": m_truncate, "lines": m_lines,
    "long-line": m_long_line, "bytes": m_bytes, "excerpt": m_excerpt, "nodes": m_nodes, "handles": m_handles,
}


# --- structured mutations (nft -j, manifest) -----------------------------------------------------

def _walk(root: Any, max_depth: int = 60) -> list[tuple[tuple, Any]]:
    """(path, node) of every node down to max_depth (a nested mutation is not walked again)."""
    out: list[tuple[tuple, Any]] = []
    stack: list[tuple[tuple, Any]] = [((), root)]
    while stack:
        path, node = stack.pop()
        out.append((path, node))
        if len(path) >= max_depth:
            continue
        if isinstance(node, dict):
            stack += [(path + (k,), v) for k, v in node.items()]
        elif isinstance(node, list):
            stack += [(path + (i,), v) for i, v in enumerate(node)]
    return out


def _set(root: Any, path: tuple, value: Any) -> Any:
    if not path:
        return value
    node = root
    for p in path[:-1]:
        node = node[p]
    node[path[-1]] = value
    return root


class Raw(str):
    """A token written verbatim into JSON (huge integers, NaN)."""


def _replacement(rng: random.Random, old: Any) -> Any:
    kind = rng.choice(["hostile", "hostile", "type", "number", "nest", "empty"])
    if kind == "hostile":
        h = rng.choice(HOSTILE)
        return (old + h) if isinstance(old, str) and rng.random() < 0.5 else h
    if kind == "type":
        return rng.choice([None, True, 0, -1, 1.5, "abc", [], {}, [old], {"x": old}, str(old), [1, 2], "80"])
    if kind == "number":
        return rng.choice([Raw("9" * 5000), float("nan"), float("inf"), float("-inf"), 10 ** 30, -(2 ** 63), 1e308,
                           Raw("1e999"), 0.1, 65536, -80])
    if kind == "nest":  # written as text: building it as objects would take the generator seconds
        depth = rng.choice([50, 2000, 200_000])
        leaf = json.dumps(old if isinstance(old, (str, int, float, bool)) or old is None else "x")
        if rng.random() < 0.5:
            return Raw("[" * depth + leaf + "]" * depth)
        return Raw('{"a": ' * depth + leaf + "}" * depth)
    return rng.choice(["", [], {}])


def m_tree(rng: random.Random, doc: Any) -> Any:
    for _ in range(rng.randint(1, 3)):
        nodes = _walk(doc)
        path, old = rng.choice(nodes)
        doc = _set(doc, path, _replacement(rng, old))
    return doc


def dump_json(doc: Any) -> str:
    """JSON with Raw tokens written verbatim (and NaN/Infinity as Python writes them)."""
    raws: list[str] = []

    def enc(o: Any) -> Any:
        if isinstance(o, Raw):
            raws.append(str(o))
            return f"\x00RAW{len(raws) - 1}\x00"
        if isinstance(o, dict):
            return {k: enc(v) for k, v in o.items()}
        if isinstance(o, list):
            return [enc(v) for v in o]
        return o

    text = json.dumps(enc(doc), allow_nan=True)
    return re.sub(r'"\\u0000RAW(\d+)\\u0000"', lambda m: raws[int(m.group(1))], text)


def _has_raw(o: Any) -> bool:
    return any(isinstance(node, Raw) for _, node in _walk(o))


def _yaml_of(doc: Any) -> str:
    if _has_raw(doc):  # JSON is YAML
        return dump_json(doc)
    return yaml.safe_dump(doc, allow_unicode=True, sort_keys=False, width=10**9)


ALIAS_BOMB = """\
apiVersion: v1
kind: List
a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol","lol"]
b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a,*a]
c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b,*b]
d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c,*c]
e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d,*d]
f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e,*e]
g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f,*f]
h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g,*g]
items:
- apiVersion: v1
  kind: Service
  metadata: {name: hello-service, namespace: default, labels: {x: *h}}
  spec:
    clusterIP: 10.101.173.15
    ports: [{name: port-v1, protocol: TCP, port: 39090, targetPort: 9090, nodePort: 30725}]
    selector: *h
"""


def manifest_mutation(rng: random.Random, text: str) -> tuple[str, str]:
    kind = rng.choice(["tree", "tree", "tree", "alias", "alias-small", "text", "flow", "many-endpoints"])
    if kind == "alias":
        return "alias-bomb", ALIAS_BOMB
    if kind == "alias-small":  # a harmless alias: refused or expanded, never a crash
        return "alias", text.replace("    selector:\n", "    selector: &sel\n", 1).replace(
            "  addressType: IPv4\n", "  addressType: IPv4\n  x-copy: *sel\n", 1)
    if kind == "text":
        name, fn = rng.choice(list(TEXT_MUTATIONS.items()))
        return f"text-{name}", fn(rng, text)
    if kind == "flow":  # one long line (a JSON manifest is YAML too)
        doc = yaml.safe_load(text)
        eps = doc["items"][1]["endpoints"]
        doc["items"][1]["endpoints"] = eps * rng.choice([10, 1000, 30_000])
        return "single-line", json.dumps(doc)
    if kind == "many-endpoints":
        n = rng.choice([1000, 20_000, 100_000])
        if n == 100_000:  # as -o json: YAML that big is over the manifest limit (the YAML loader is slow)
            return "many-endpoints-json", many_endpoints_json(n)
        return "many-endpoints", many_endpoints_manifest(n)
    doc = yaml.safe_load(text)
    doc = m_tree(rng, doc)
    return "tree", (dump_json(doc) if rng.random() < 0.3 else _yaml_of(doc))


@functools.cache
def many_endpoints_manifest(n: int) -> str:
    eps = "".join(f"  - addresses: [10.{i >> 16 & 255}.{i >> 8 & 255}.{i & 255}]\n    conditions: {{ready: true}}\n"
                  for i in range(n))
    return f"""apiVersion: v1
kind: List
items:
- apiVersion: v1
  kind: Service
  metadata: {{name: hello-service, namespace: default}}
  spec:
    type: NodePort
    clusterIP: 10.101.173.15
    ports:
    - {{name: port-v1, protocol: TCP, port: 39090, targetPort: 9090, nodePort: 30725}}
    - {{name: port-v2, protocol: TCP, port: 49191, targetPort: 9191, nodePort: 31576}}
- apiVersion: discovery.k8s.io/v1
  kind: EndpointSlice
  metadata:
    name: hello-service-big
    namespace: default
    labels: {{kubernetes.io/service-name: hello-service}}
  addressType: IPv4
  ports: [{{name: port-v1, protocol: TCP, port: 9090}}, {{name: port-v2, protocol: TCP, port: 9191}}]
  endpoints:
{eps}"""


@functools.cache
def many_endpoints_json(n: int) -> str:
    doc = yaml.safe_load(many_endpoints_manifest(1))
    doc["items"][1]["endpoints"] = [{"addresses": [f"10.{i >> 16 & 255}.{i >> 8 & 255}.{i & 255}"],
                                     "conditions": {"ready": True}} for i in range(n)]
    return json.dumps(doc)


# --- sheer size: many jumps, endpoints, real servers, map elements -------------------------------

@functools.cache
def big_iptables(n: int) -> str:
    """One Service with n endpoints, as kube-proxy writes it (iptables-save -c)."""
    from kubectl_svcpath.kubeproxy import endpoint_chain, service_chains

    svc = service_chains("default/hello-service:port-v1", "tcp")["svc"]
    lines = ["*nat", ":PREROUTING ACCEPT [0:0]", ":KUBE-SERVICES - [0:0]", f":{svc} - [0:0]"]
    seps = []
    for i in range(n):
        ip = f"10.{i >> 16 & 255}.{i >> 8 & 255}.{i & 255}"
        sep = endpoint_chain("default/hello-service:port-v1", "tcp", ip, 9090)
        seps.append((sep, ip))
        lines.append(f":{sep} - [0:0]")
    lines.append("[5:300] -A PREROUTING -m comment --comment \"kubernetes service portals\" -j KUBE-SERVICES")
    lines.append(f"[5:300] -A KUBE-SERVICES -d 10.101.173.15/32 -p tcp -m comment --comment \"default/hello-service:port-v1 cluster IP\" -m tcp --dport 39090 -j {svc}")
    for i, (sep, ip) in enumerate(seps):
        left = n - i
        prob = "" if left == 1 else f" -m statistic --mode random --probability {1 / left:.11f}"
        lines.append(f"[1:60] -A {svc} -m comment --comment \"default/hello-service:port-v1 -> {ip}:9090\"{prob} -j {sep}")
    for sep, ip in seps:
        lines.append(f"[1:60] -A {sep} -p tcp -m comment --comment \"default/hello-service:port-v1\" -m tcp -j DNAT --to-destination {ip}:9090")
    lines.append("COMMIT")
    return "\n".join(lines) + "\n"


@functools.cache
def big_ipvs(n: int) -> str:
    rows = ["IP Virtual Server version 1.2.1 (size=4096)", "Prot LocalAddress:Port Scheduler Flags",
            "  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn",
            "TCP  10.101.173.15:39090 rr"]
    rows += [f"  -> 10.{i >> 16 & 255}.{i >> 8 & 255}.{i & 255}:9090{'':10}Masq    1      0          0" for i in range(n)]
    return "\n".join(rows) + "\n"


@functools.cache
def big_nft(n: int) -> str:
    """nft text: a service chain with an n-way numgen vmap, n endpoint chains."""
    from kubectl_svcpath.kubeproxy import nft_endpoint_base, nft_service_chains

    svc = nft_service_chains("default", "hello-service", "tcp", "port-v1")["svc"]
    eps = []
    for i in range(n):
        ip = f"10.{i >> 16 & 255}.{i >> 8 & 255}.{i & 255}"
        eps.append(("endpoint-" + nft_endpoint_base("default", "hello-service", "tcp", "port-v1", ip, 9090), ip))
    out = ["table ip kube-proxy {",
           "\tmap service-ips {", "\t\ttype ipv4_addr . inet_proto . inet_service : verdict",
           "\t\telements = { 10.101.173.15 . tcp . 39090 : goto " + svc + " }", "\t}",
           "\tchain services {", "\t\tip daddr . meta l4proto . th dport vmap @service-ips", "\t}",
           f"\tchain {svc} {{",
           f"\t\tnumgen random mod {n} vmap {{ " + ", ".join(f"{i} : goto {c}" for i, (c, _) in enumerate(eps)) + " }",
           "\t}"]
    for c, ip in eps:
        out += [f"\tchain {c} {{", f"\t\tmeta l4proto tcp dnat to {ip}:9090", "\t}"]
    out.append("}")
    return "\n".join(out) + "\n"


# --- assembling cases -----------------------------------------------------------------------------

def make_case(index: int, seed: int, all_bases: list[Base]) -> Case:
    rng = random.Random(f"{seed}:{index}")
    # one case in three starts from a real paste of tests/corpus, the others from the dumps and the example
    pastes = [b for b in all_bases if b.form.startswith("paste-")]
    others = [b for b in all_bases if not b.form.startswith("paste-")] or pastes
    k = index // 3
    base = pastes[k % len(pastes)] if pastes and index % 3 == 2 else others[(2 * k + index % 3) % len(others)]
    output = rng.choice(FORMATS)
    files: dict[str, bytes] = {}
    args: list[str] = []
    size_roll = rng.random()
    manifest_text = base.manifest.read_text(encoding="utf-8") if base.manifest else None
    mutation = ""

    rules = [_base_text(base)] + [p.read_text(encoding="utf-8") for p in base.rules[1:]]
    if base.form == "manifest":
        mutation, manifest_text = manifest_mutation(rng, manifest_text or "")
    elif size_roll < 0.04:  # sheer size, < 10 MB
        n = rng.choice([2000, 10_000, 40_000])
        if base.form in ("iptables-save", "iptables-lines", "iptables-list"):
            rules = [big_iptables(n)]
        elif base.form == "ipvsadm":
            rules = [big_ipvs(n)]
        else:
            rules = [big_nft(n)]
        mutation = f"many-{n}"
        manifest_text = (EXAMPLE / "manifest.yaml").read_text(encoding="utf-8") if rng.random() < 0.5 else None
        base = Base(base.form, base.rules, ("hello-service",), None)
    elif base.form == "nft-json" and rng.random() < 0.6:
        doc = json.loads(rules[0])
        rules[0] = dump_json(m_tree(rng, doc))
        mutation = "json-tree"
    else:
        name, fn = rng.choice(list(TEXT_MUTATIONS.items()))
        target = rng.randrange(len(rules))
        rules[target] = fn(rng, rules[target])
        mutation = name
        if rng.random() < 0.15 and manifest_text:  # the manifest is hostile too
            label, manifest_text = manifest_mutation(rng, manifest_text)  # one draw: the label names this text
            mutation += "+manifest-" + label

    if base.form == "conntrack":
        files["rules0.json"] = base.rules[0].read_text(encoding="utf-8").encode()
        files["conntrack.txt"] = rules[0].encode("utf-8", "surrogatepass")
        args += ["--rules-file", FileArg("rules0.json"), "--rules-file", FileArg("conntrack.txt")]
    else:
        for i, text in enumerate(rules):
            files[f"rules{i}.txt"] = text.encode("utf-8", "surrogatepass")
            args += ["--rules-file", FileArg(f"rules{i}.txt")]
    if manifest_text is not None and (base.manifest is not None or mutation.startswith("many")):
        files["manifest.yaml"] = manifest_text.encode("utf-8", "surrogatepass")
        args += ["--manifest", FileArg("manifest.yaml")]

    if rng.random() < 0.08 and base.form != "conntrack" and not mutation.startswith("many"):
        # --since: an earlier dump of the same node (the base as it was, or mutated too)
        earlier = _base_text(base)
        if rng.random() < 0.5:
            earlier = rng.choice(list(TEXT_MUTATIONS.values()))(rng, earlier)
        files["since.txt"] = earlier.encode("utf-8", "surrogatepass")
        args += ["--since", FileArg("since.txt")]
        mutation += "+since"

    roll = rng.random()
    if roll < 0.12 or not base.services:
        args.append("--all")
    else:
        svc = rng.choice(base.services)
        if rng.random() < 0.08:  # hostile text in the names typed on the command line
            h = rng.choice(HOSTILE)
            svc = rng.choice([h + svc, svc + h, h, f"{h}/{svc.split('/')[-1]}", f"svc/{h}"])
        args.append(svc)
        if rng.random() < 0.04:
            args += ["-n", rng.choice(HOSTILE + ["default", "kube-system", "a" * 300])]
    if rng.random() < 0.1:
        args += _trace_args(rng)
    if rng.random() < 0.15:
        args += ["--proxy-mode", rng.choice(["iptables", "nftables", "ipvs"])]
    if rng.random() < 0.1:
        args.append("--lenient")
    if rng.random() < 0.05:
        args += ["--port", rng.choice(["port-v1", "80", "99999", "\x1b[2J"])]
    stdin = None
    if rng.random() < 0.05 and base.form != "conntrack":  # the dump piped in: --rules-file -
        stdin = files.pop("rules0.txt")
        args[args.index(FileArg("rules0.txt"))] = "-"
    return Case(index, base.form, mutation, files, args, output, stdin)


def _trace_args(rng: random.Random) -> list[str]:
    """--trace and its companions, from the valid to the hostile."""
    odd = [rng.choice(HOSTILE), rng.choice(NUMBERS)]
    args = ["--trace", rng.choice(["node", "outside", "10.0.0.7", "192.168.189.15", "pod/x", "default/pod/web-0", "::1",
                                   "fd00::7", "999.1.1.1", "10.0.0.0/8", "pod/", "a/b/c/d", *odd])]
    if rng.random() < 0.6:
        args += ["--to", rng.choice(["10.101.173.15:39090", "10.101.173.15:49191", "192.168.0.2:30725", "[fd00::1]:80",
                                     "10.101.173.15", "10.101.173.15:99999", "10.101.173.15:-1", ":80", "x:y",
                                     "10.101.173.15:" + rng.choice(NUMBERS), *odd])]
    if rng.random() < 0.3:
        args += ["--proto", rng.choice(["tcp", "udp", "sctp", "TCP", "icmp", *odd])]
    if rng.random() < 0.3:
        args += ["--node-ip", rng.choice(["192.168.0.2", "fd00::2", "300.1.1.1", *odd])]
    return args


def generate(seed: int, count: int, shared: Path) -> list[Case]:
    all_bases = bases(shared)
    return [make_case(i, seed, all_bases) for i in range(count)]


# --- live mode: hostile API objects ------------------------------------------------------------

LIVE_NODE = "cp01"


def live_case(index: int, seed: int, kubeconfig: bytes) -> tuple[Case, dict[tuple[str, str, str], Any]]:
    """A case against the fake API server: hello-service and its EndpointSlice in namespace
    ``fz<index>``, one or both mutated like a manifest (hostile strings, wrong types, huge numbers,
    nesting), and what the server must hold for it (FakeCluster.objects entries, stored as they
    are: the server answers with them whatever their shape). The node has no kube-proxy pod, so a
    run shows what the API holds with the rules "not read" (exit 4), or fails with one error line."""
    from tests.lab import kpgen

    rng = random.Random(f"live:{seed}:{index}")
    ns = f"fz{index}"
    objects = kpgen.api_objects(kpgen.hello_service(), node_of={"192.168.189.15": LIVE_NODE})
    served: dict[tuple[str, str, str], Any] = {}
    which = rng.choice(["service", "slice", "both"])
    for obj in objects:
        obj["metadata"]["namespace"] = ns
        key = (obj["kind"], ns, obj["metadata"]["name"])
        hostile = which == "both" or (which == "service") == (obj["kind"] == "Service")
        served[key] = m_tree(rng, obj) if hostile else obj
    args: list[str] = ["hello-service", "-n", ns, "--kubeconfig", FileArg("kubeconfig"), "--request-timeout", "30s"]
    return Case(index, "live", f"api-{which}", {"kubeconfig": kubeconfig}, args, rng.choice(FORMATS)), served
