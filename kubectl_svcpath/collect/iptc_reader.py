"""Read kube-proxy's rules from the legacy (x_tables) backend with python-iptables.

Only for the legacy backend: python-iptables talks to x_tables and sees nothing of
nf_tables (ecosystem-notes §1.2). Three of its habits would break the read-only promise
or the speed goal, and are avoided here:

- probing a table that does not exist *creates* it (``iptc.Table``, ``is_table_available``,
  and the target decoder, which probes every table): callers pass the table names read from
  ``/proc/net/ip_tables_names`` and iptc's availability cache is filled from them first;
- ``Table(name)`` defaults to autocommit: tables are opened with ``autocommit=False``;
- decoding a whole 50k-rule table takes 13-15 s: only the chains one Service needs are
  decoded; the dispatch chains (KUBE-SERVICES, KUBE-NODEPORTS) are walked with libiptc's
  cheap target lookup and only the rules that lead to this Service (or to no service at
  all) are decoded.

The RuleSet is filled the way parse/iptables_save.py fills it from ``iptables-save -c``,
so the correlator cannot tell the two apart; ``raw`` is the line iptables-save would print.
"""

from __future__ import annotations

import glob
import importlib.util
import ipaddress
import os
import sys
import sysconfig
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from kubectl_svcpath.errors import CollectFailed
from kubectl_svcpath.kubeproxy import SERVICE_CHAIN_PREFIXES
from kubectl_svcpath.parse.tokens import TokenError, split_words
from kubectl_svcpath.rules import Chain, DumpInfo, Rule, RuleSet

# Chains read whole whenever they exist: kube-proxy's fixed chains and the built-ins that jump into them.
NAT_CHAINS = ("PREROUTING", "OUTPUT", "POSTROUTING", "KUBE-SERVICES", "KUBE-NODEPORTS",
              "KUBE-POSTROUTING", "KUBE-MARK-MASQ")
FILTER_CHAINS = ("INPUT", "FORWARD", "OUTPUT", "KUBE-SERVICES", "KUBE-EXTERNAL-SERVICES", "KUBE-NODEPORTS",
                 "KUBE-FORWARD", "KUBE-PROXY-FIREWALL", "KUBE-FIREWALL")
# Chains with one rule per Service: only this Service's rules (and service-independent ones) are decoded.
DISPATCH_CHAINS = {("nat", "KUBE-SERVICES"), ("nat", "KUBE-NODEPORTS")}
# kubelet's backend markers (kubelet_network_linux.go; iptables-wrappers look for them too)
HINT_CHAINS = ("KUBE-IPTABLES-HINT", "KUBE-KUBELET-CANARY")

_PROTOCOLS = {1: "icmp", 6: "tcp", 17: "udp", 50: "esp", 51: "ah", 58: "ipv6-icmp", 132: "sctp", 135: "mh", 136: "udplite"}
PROC_NAMES = {4: "/proc/net/ip_tables_names", 6: "/proc/net/ip6_tables_names"}
_IPT_F_FRAG = 0x01
_XT_INV_PROTO = 0x40  # same bit for IPv4 and IPv6 (x_tables.h)
_IPT_INV_FRAG = 0x20


def legacy_table_names(family: int = 4) -> set[str]:
    """The legacy tables that exist in this network namespace; reading the file creates nothing."""
    try:
        with open(PROC_NAMES[family], encoding="ascii") as f:
            return {line.strip() for line in f if line.strip()}
    except FileNotFoundError:  # x_tables not loaded: no legacy table at all
        return set()
    except PermissionError:
        raise CollectFailed(f"cannot read {PROC_NAMES[family]}: permission denied",
                            hint="run --local as root (sudo), on the node or in its network namespace") from None


def prepare_environment() -> None:
    """Point python-iptables at the libraries so its import does not run ldconfig, gcc and ld."""
    if "XTABLES_LIBDIR" not in os.environ:
        for candidate in _xtables_dirs():
            if os.path.isdir(candidate):
                os.environ["XTABLES_LIBDIR"] = candidate
                break
    if "IPTABLES_LIBDIR" not in os.environ:
        dirs = []
        spec = importlib.util.find_spec("iptc")
        if spec and spec.origin:  # libxtwrapper*.so sits next to the iptc package
            dirs.append(os.path.dirname(os.path.dirname(spec.origin)))
        xt = os.environ.get("XTABLES_LIBDIR")
        if xt:
            dirs.append(os.path.dirname(xt))  # libxtables/libip4tc live one level up
        if dirs:
            os.environ["IPTABLES_LIBDIR"] = ":".join(dirs)


def _xtables_dirs() -> list[str]:
    multiarch = sysconfig.get_config_var("MULTIARCH")
    dirs = [f"/usr/lib/{multiarch}/xtables"] if multiarch else []
    dirs += sorted(glob.glob("/usr/lib/*-linux-gnu*/xtables")) + ["/usr/lib64/xtables", "/usr/lib/xtables",
                                                                   "/usr/libexec/xtables"]
    return dirs


def import_iptc() -> Any:
    """``import iptc``, lazily (Linux only, C libraries needed), with the user-facing error."""
    if "iptc" in sys.modules:
        return sys.modules["iptc"]
    prepare_environment()
    # iptc.util does "from distutils.sysconfig import get_python_lib"; in a venv with setuptools that
    # imports all of setuptools (0.45 s of a 0.55 s import). Make it fall back to sysconfig instead.
    blocked = "distutils" not in sys.modules
    if blocked:
        sys.modules["distutils"] = None  # type: ignore[assignment]
    try:
        import iptc  # noqa: PLC0415 (lazy on purpose)
    except ImportError as e:
        raise CollectFailed(f"python-iptables is not usable here: {e}",
                            hint="install python-iptables and the iptables libraries (Debian: iptables), "
                                 "or read the rules from the kube-proxy pod instead of --local") from None
    except Exception as e:  # iptc raises XTablesError at import when it finds no extensions
        raise CollectFailed(f"python-iptables cannot load the iptables extensions: {e}",
                            hint="set XTABLES_LIBDIR to the directory holding libxt_*.so "
                                 "(Debian: /usr/lib/<arch>-linux-gnu/xtables)") from None
    finally:
        if blocked and sys.modules.get("distutils", 0) is None:
            del sys.modules["distutils"]
    # iptc probes "every table" while decoding some targets, and probing a missing table creates it:
    # answer its availability cache from /proc for both families before anything is decoded
    for family, table_cls in ((4, iptc.Table), (6, iptc.Table6)):
        existing = legacy_table_names(family)
        for name in table_cls.ALL:
            table_cls.existing_table_names[name] = name in existing
    return iptc


@dataclass(slots=True)
class _Api:
    """The python-iptables classes for one address family."""

    table_cls: Any
    chain_cls: Any
    family: int


def _api(iptc: Any, family: int, existing: set[str]) -> _Api:
    table_cls = iptc.Table if family == 4 else iptc.Table6
    # iptc's availability cache: filled from /proc, so nothing ever probes (and so creates) a missing table
    for name in table_cls.ALL:
        table_cls.existing_table_names[name] = name in existing
    return _Api(table_cls, iptc.Chain, family)


def open_table(iptc: Any, name: str, family: int, existing: set[str]) -> Any:
    """An iptc table handle, only for a table listed in /proc (else None): never creates one."""
    if name not in existing:
        return None
    api = _api(iptc, family, existing)
    try:
        return api.table_cls(name, autocommit=False)
    except iptc.IPTCError as e:
        raise CollectFailed(f"python-iptables cannot read the legacy {name} table: {e}",
                            hint="run --local as root (sudo), on the node or in its network namespace") from None


def has_chain(table: Any, name: str) -> bool:
    return table is not None and bool(table.is_chain(name))


def chain_has_rules(table: Any, name: str) -> bool:
    return has_chain(table, name) and bool(table.first_rule(name))


def read_legacy(service_chains: Iterable[str], family: int = 4, existing: set[str] | None = None) -> RuleSet:
    """The legacy nat and filter chains one Service needs, as a RuleSet with counters.

    ``service_chains``: the Service's per-port chains (KUBE-SVC-/SVL-/EXT-/FW-…); jumps from them
    to KUBE-SEP- (or between them) are followed. ``existing``: /proc/net/ip_tables_names.
    """
    existing = legacy_table_names(family) if existing is None else existing
    iptc = import_iptc()
    from iptc import version as iptc_version  # noqa: PLC0415

    source = "local python-iptables (legacy)" if family == 4 else "local python-iptables (legacy, IPv6)"
    ruleset = RuleSet()
    info = DumpInfo(source=source, form="python-iptables", reader="python-iptables",
                    reader_version=iptc_version.__version__, backend="legacy", has_counters=True)
    reader = _Reader(iptc, family, source, info)
    wanted = set(service_chains)
    for table_name, fixed in (("nat", NAT_CHAINS), ("filter", FILTER_CHAINS)):
        table = open_table(iptc, table_name, family, existing)
        if table is None:
            continue
        out = ruleset.ensure_table(table_name)
        queue = [c for c in fixed] + (sorted(wanted) if table_name == "nat" else [])
        seen: set[str] = set()
        while queue:
            name = queue.pop(0)
            if name in seen or not table.is_chain(name):
                continue
            seen.add(name)
            chain = reader.read_chain(table, table_name, name, wanted if (table_name, name) in DISPATCH_CHAINS else None)
            out.chains[name] = chain
            for rule in chain.rules:
                # follow this Service's own jumps: EXT -> SVC/SVL, SVC -> SEP, FW -> EXT
                if rule.target and rule.target.startswith(SERVICE_CHAIN_PREFIXES) and name not in ("KUBE-SERVICES", "KUBE-NODEPORTS"):
                    queue.append(rule.target)
        if not out.chains:
            del ruleset.tables[table_name]
    ruleset.dumps.append(info)
    return ruleset


class _Reader:
    def __init__(self, iptc: Any, family: int, source: str, info: DumpInfo) -> None:
        self.iptc = iptc
        self.family = family
        self.source = source
        self.info = info

    def read_chain(self, table: Any, table_name: str, name: str, only_targets: set[str] | None) -> Chain:
        """Decode one chain; with ``only_targets``, skip rules that jump to another Service's chains."""
        chain = Chain(name, declared=True, packets=0, bytes=0)  # iptables-save prints [0:0] for user chains
        if table.builtin_chain(name):
            policy, counters = table.get_policy(name)
            chain.policy = policy.name if policy is not None else None
            if counters is not None:
                chain.packets, chain.bytes = int(counters[0]), int(counters[1])
        iptc_chain = self.iptc.Chain(table, name)
        entry = table.first_rule(name)
        position = 0
        while entry:
            position += 1
            target = _decode(table.get_target(entry))
            if only_targets is None or target in only_targets or not (target or "").startswith(SERVICE_CHAIN_PREFIXES):
                chain.rules.append(self._rule(table, table_name, iptc_chain, entry, position, target))
            entry = table.next_rule(entry)
        return chain

    def _rule(self, table: Any, table_name: str, iptc_chain: Any, entry: Any, position: int, target: str | None) -> Rule:
        ip = entry.ip if self.family == 4 else entry.ipv6
        packets, nbytes = int(entry.counters.pcnt), int(entry.counters.bcnt)
        rule = Rule(table=table_name, chain=iptc_chain.name, position=position, source=self.source, line_no=0,
                    raw="", packets=packets, bytes=nbytes, target=target or None)
        parts = [f"[{packets}:{nbytes}] -A {iptc_chain.name}"]
        try:
            decoded = table.create_rule(entry, iptc_chain)
        except Exception as e:  # noqa: BLE001 - an extension this host lacks: keep what the entry says
            self.info.skipped.append(f"{iptc_chain.name} rule {position}: cannot decode ({e})")
            rule.raw = parts[0] + f" … (undecodable: {e})" + (f" -j {target}" if target else "")
            return rule
        inv = ip.invflags
        src, dst = _address(decoded.src, self.family), _address(decoded.dst, self.family)
        if src:
            rule.source_addr = src
            parts.append(_neg(src) + f"-s {src.lstrip('!')}")
        if dst:
            rule.dest_addr = dst
            parts.append(_neg(dst) + f"-d {dst.lstrip('!')}")
        for flag, attr, field in (("-i", "in_interface", "in_iface"), ("-o", "out_interface", "out_iface")):
            value = getattr(decoded, attr)
            if value:
                setattr(rule, field, value)
                parts.append(_neg(value) + f"{flag} {value.lstrip('!')}")
        proto = _protocol(ip.proto, bool(inv & _XT_INV_PROTO))
        if proto:
            rule.protocol = proto
            parts.append(_neg(proto) + f"-p {proto.lstrip('!')}")
        if self.family == 4 and ip.flags & _IPT_F_FRAG:
            parts.append(("! " if inv & _IPT_INV_FRAG else "") + "-f")
        for match in decoded.matches:
            saved = _saved(match, decoded)
            rule.matches.append(match.name)
            _options(saved, rule.options)
            parts.append(f"-m {match.name}" + (f" {saved}" if saved else ""))
        if target:
            rule.goto = bool(decoded.target is not None and decoded.target.goto)
            parts.append(f"-{'g' if rule.goto else 'j'} {target}")
            saved = _saved(decoded.target, decoded) if decoded.target is not None else ""
            if saved:
                _options(saved, rule.target_options)
                parts.append(saved)
        _derive(rule)
        rule.raw = " ".join(parts)
        return rule


def _decode(value: bytes | str | None) -> str | None:
    if not value:
        return None
    return value.decode() if isinstance(value, bytes) else value


def _neg(value: str) -> str:
    return "! " if value.startswith("!") else ""


def _address(text: str, family: int) -> str | None:
    """iptc's "addr/mask" as iptables-save prints it: "addr/prefix", None for "any"."""
    neg = text.startswith("!")
    addr, _, mask = text.lstrip("!").partition("/")
    if family == 4:
        if addr == "0.0.0.0" and mask == "0.0.0.0" and not neg:
            return None
        try:
            prefix = ipaddress.IPv4Network(f"0.0.0.0/{mask}").prefixlen
            out = f"{addr}/{prefix}"
        except ValueError:  # a non-contiguous mask: iptables-save prints it dotted too
            out = f"{addr}/{mask}"
    else:
        if addr == "::" and mask == "0" and not neg:
            return None
        out = f"{addr}/{mask}"
    return ("!" if neg else "") + out


def _protocol(number: int, inverted: bool) -> str | None:
    if not number and not inverted:
        return None
    name = _PROTOCOLS.get(number, str(number)) if number else "all"
    return ("!" if inverted else "") + name


def _saved(module: Any, decoded: Any) -> str:
    """The text the extension's own save() prints: exactly what iptables-save shows after -m/-j."""
    # iptc exposes it only through the private _get_saved_buf (its get_all_parameters re-splits it with
    # shlex, which mangles quotes); fall back to rebuilding it from the parameters.
    getter = getattr(module, "_get_saved_buf", None)
    if getter is not None:
        buf = getter(decoded.get_ip())
        if buf is None:
            return ""
        return (buf.decode(errors="replace") if isinstance(buf, bytes) else buf).strip()
    words: list[str] = []
    for key, values in module.get_all_parameters().items():
        if values and values[0] == "!":
            words.append("!")
            values = values[1:]
        words.append(f"--{key}")
        words.extend(f'"{v}"' if " " in v else v for v in values)
    return " ".join(words)


def _options(saved: str, into: dict[str, list[str]]) -> None:
    """``--opt value…`` words into ``into``, with the text parser's conventions ("!" on the first value)."""
    try:
        words = split_words(saved)
    except TokenError:
        words = saved.split()
    negate = False
    i, n = 0, len(words)
    while i < n:
        w = words[i]
        if w == "!":
            negate, i = True, i + 1
            continue
        if w.startswith("-"):
            values: list[str] = []
            j = i + 1
            while j < n and not _is_option(words[j]):
                values.append(words[j])
                j += 1
            if negate:
                values = ["!" + values[0], *values[1:]] if values else ["!"]
            into[w] = values
            negate, i = False, j
            continue
        i += 1  # a stray value: keep going, the raw line still shows it


def _is_option(word: str) -> bool:
    return word == "!" or (word.startswith("-") and len(word) > 1 and not word[1].isdigit())


def _derive(rule: Rule) -> None:
    opts = rule.options
    if opts.get("--comment"):
        rule.comment = opts["--comment"][0]
    for key in ("--dport", "--dports", "--destination-port", "--destination-ports"):
        if opts.get(key):
            rule.dport = opts[key][0]
            break
    if opts.get("--probability"):
        try:
            rule.probability = float(opts["--probability"][0])
        except ValueError:
            pass
