"""Read kube-proxy's rules from the legacy (x_tables) backend, decoded by python-iptables.

Only for the legacy backend: x_tables knows nothing of nf_tables (ecosystem-notes §1.2).
The table comes from the kernel the way every legacy reader gets it (libiptc, iptables-save):
one ``IPT_SO_GET_ENTRIES`` copy of the whole table, counters included. What differs is what
happens next:

- libiptc (``iptc.Table``) then copies every rule of the table into its own cache: on a
  10,000-Service node that costs as much again as the kernel's copy, and iptables-save then
  prints all of it. Here the chains one Service needs are found in the copy by name, and only
  their rules (and, in KUBE-SERVICES/KUBE-NODEPORTS, the rules that lead to this Service or to
  no service at all) are decoded;
- decoding is python-iptables' (``iptc.Match``/``iptc.Target`` on the raw structures: each
  extension's own save() prints its options, exactly as iptables-save shows them);
- nothing is ever written, and no table is probed that /proc/net/ip_tables_names does not
  list: asking the kernel for a missing legacy table creates it (iptables-version-skew.md §8).
  python-iptables' own habits that would do so are avoided: no ``iptc.Table`` on a missing
  table, no ``is_table_available``, a rule object whose table list is empty so target decoding
  never probes "every table", no ``iptc.easy`` (it commits per chain).

The RuleSet is filled the way parse/iptables_save.py fills it from ``iptables-save -c``, so the
correlator cannot tell the two apart; ``raw`` is the line iptables-save would print.
"""

from __future__ import annotations

import ctypes as ct
import errno
import glob
import importlib.util
import mmap
import os
import re
import socket
import struct
import sys
import sysconfig
from collections.abc import Iterable
from typing import Any

from kubectl_svcpath.errors import CollectFailed
from kubectl_svcpath.kubeproxy import SERVICE_CHAIN_PREFIXES
from kubectl_svcpath.modes.iptables.parse_save import derive_fields, option_values
from kubectl_svcpath.parse.tokens import TokenError, split_words
from kubectl_svcpath.modes.iptables.model import Chain, DumpInfo, Rule, RuleSet

# Chains read whole whenever they exist: kube-proxy's fixed chains and the built-ins that jump into them.
NAT_CHAINS = ("PREROUTING", "OUTPUT", "POSTROUTING", "KUBE-SERVICES", "KUBE-NODEPORTS",
              "KUBE-POSTROUTING", "KUBE-MARK-MASQ")
FILTER_CHAINS = ("INPUT", "FORWARD", "OUTPUT", "KUBE-SERVICES", "KUBE-EXTERNAL-SERVICES", "KUBE-NODEPORTS",
                 "KUBE-FORWARD", "KUBE-PROXY-FIREWALL", "KUBE-FIREWALL")
# Chains with one rule per Service: only this Service's rules (and service-independent ones) are decoded.
DISPATCH_CHAINS = {("nat", "KUBE-SERVICES"), ("nat", "KUBE-NODEPORTS")}
# kubelet's backend markers (kubelet_network_linux.go; iptables-wrappers look for them too)
HINT_CHAINS = ("KUBE-IPTABLES-HINT", "KUBE-KUBELET-CANARY")
PROC_NAMES = {4: "/proc/net/ip_tables_names", 6: "/proc/net/ip6_tables_names"}

_PROTOCOLS = {1: "icmp", 6: "tcp", 17: "udp", 50: "esp", 51: "ah", 58: "ipv6-icmp", 132: "sctp", 135: "mh", 136: "udplite"}
_HOOKS = ("PREROUTING", "INPUT", "FORWARD", "OUTPUT", "POSTROUTING")
_VERDICTS = {-1: "DROP", -2: "ACCEPT", -4: "QUEUE", -5: "RETURN"}  # -NF_x-1; XT_RETURN = -NF_REPEAT-1
_SO_GET_INFO, _SO_GET_ENTRIES = 64, 65  # IPT_SO_GET_* and IP6T_SO_GET_* share the numbers
_SERVICE_PREFIXES = tuple(p.encode() for p in SERVICE_CHAIN_PREFIXES)
_XT_INV_PROTO = 0x40  # same bit for IPv4 and IPv6 (x_tables.h)
_IPT_F_FRAG, _IPT_INV_FRAG = 0x01, 0x20


# --- environment and import -----------------------------------------------------------------


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
    return dirs + sorted(glob.glob("/usr/lib/*-linux-gnu*/xtables")) + ["/usr/lib64/xtables", "/usr/lib/xtables",
                                                                        "/usr/libexec/xtables"]


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
        if isinstance(e, ModuleNotFoundError) and e.name == "iptc":  # the optional `local` extra: one line
            raise CollectFailed("--local on a legacy-iptables node needs python-iptables: "
                                "pip install 'kubectl-svcpath[local]' (or drop --local to read the kube-proxy pod)") from None
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
    # iptc probes "every table" in some code paths, and probing a missing table creates it: answer its
    # availability cache from /proc for both families, so even a stray call cannot create one
    for family, table_cls in ((4, iptc.Table), (6, iptc.Table6)):
        existing = legacy_table_names(family)
        for name in table_cls.ALL:
            table_cls.existing_table_names[name] = name in existing
    return iptc


# --- the kernel's copy of a table ---------------------------------------------------------------


class _GetInfo(ct.Structure):
    _fields_ = [("name", ct.c_char * 32), ("valid_hooks", ct.c_uint), ("hook_entry", ct.c_uint * 5),
                ("underflow", ct.c_uint * 5), ("num_entries", ct.c_uint), ("size", ct.c_uint)]


_LIBC: Any = None
_TABLES: dict[tuple[int, str], KernelTable] = {}


def kernel_table(name: str, family: int = 4, existing: set[str] | None = None) -> KernelTable | None:
    """The legacy table ``name`` as the kernel hands it over, once per run; None when /proc does not list it."""
    existing = legacy_table_names(family) if existing is None else existing
    if name not in existing:
        return None  # never ask the kernel for it: that would create it
    key = (family, name)
    if key not in _TABLES:
        _TABLES[key] = KernelTable(name, family)
    return _TABLES[key]


class KernelTable:
    """The ``IPT_SO_GET_ENTRIES`` blob: ipt_entry structures back to back, chains in between.

    A user chain starts with an ERROR entry naming it and ends with an unconditional RETURN (its
    "foot", not a rule); a built-in chain runs from its hook entry to its underflow (the policy).
    A jump's verdict is the offset of the target chain's first entry, right after its ERROR head.
    """

    def __init__(self, name: str, family: int) -> None:
        self.name, self.family = name, family
        self.entry_size = 112 if family == 4 else 168  # sizeof(struct ipt_entry) / ip6t_entry
        self.head_size = self.entry_size + 64  # + XT_ALIGN(sizeof(struct xt_error_target))
        self.goto_flag = 0x02 if family == 4 else 0x04
        self._offsets = struct.Struct("=HH")  # target_offset, next_offset
        self._off_field = 88 if family == 4 else 140  # offsetof(ipt_entry / ip6t_entry, target_offset)
        self.info, self.buf = self._fetch()
        self.view = memoryview(self.buf)
        self.base = 40  # offsetof(struct ipt_get_entries, entrytable)
        self.heads: dict[str, int] = {}
        self._looked_up: set[str] = set()

    def _fetch(self) -> tuple[_GetInfo, Any]:
        global _LIBC
        if _LIBC is None:
            _LIBC = ct.CDLL(None, use_errno=True)
        domain, level = (socket.AF_INET, socket.SOL_IP) if self.family == 4 else (socket.AF_INET6, socket.IPPROTO_IPV6)
        try:
            sock = socket.socket(domain, socket.SOCK_RAW, socket.IPPROTO_RAW)
        except PermissionError:
            raise CollectFailed(f"cannot read the legacy {self.name} table: permission denied",
                                hint="run --local as root (sudo), on the node or in its network namespace") from None
        with sock:
            for _ in range(5):  # the table may change between the two calls (EAGAIN): ask again
                info = _GetInfo(name=self.name.encode())
                size = ct.c_uint(ct.sizeof(info))
                if _LIBC.getsockopt(sock.fileno(), level, _SO_GET_INFO, ct.byref(info), ct.byref(size)) != 0:
                    raise self._error(ct.get_errno())
                # anonymous mmap, not create_string_buffer/bytearray: no memset of a 100 MB buffer first
                buf = mmap.mmap(-1, 40 + info.size)
                buf[: len(self.name)] = self.name.encode()
                struct.pack_into("=I", buf, 32, info.size)
                size = ct.c_uint(40 + info.size)
                cbuf = (ct.c_char * len(buf)).from_buffer(buf)
                if _LIBC.getsockopt(sock.fileno(), level, _SO_GET_ENTRIES, cbuf, ct.byref(size)) == 0:
                    del cbuf  # release the export: the buffer is only read from here on
                    return info, buf
                err = ct.get_errno()
                if err != errno.EAGAIN:
                    raise self._error(err)
        raise CollectFailed(f"the legacy {self.name} table kept changing while it was read",
                            hint="kube-proxy is rewriting it; try again")

    def _error(self, err: int) -> CollectFailed:
        hint = ("run --local as root (sudo), on the node or in its network namespace" if err in (errno.EPERM, errno.EACCES)
                else "is this a legacy (x_tables) table? check with: cat /proc/net/ip_tables_names")
        return CollectFailed(f"cannot read the legacy {self.name} table: {os.strerror(err)}", hint=hint)

    # --- structure ---

    def next_offset(self, off: int) -> int:
        nxt = self._offsets.unpack_from(self.view, self.base + off + self._off_field)[1]
        if nxt < self.entry_size:
            raise self._corrupt(off)
        return nxt

    def _corrupt(self, off: int) -> CollectFailed:
        return CollectFailed(f"the legacy {self.name} table does not look like x_tables entries (at offset {off})",
                             hint="please report this with the output of iptables-legacy-save -c")

    def _error_name(self, off: int) -> str | None:
        """The chain name when the entry at ``off`` is an ERROR head (or "ERROR" for the table's end)."""
        to, nxt = self._offsets.unpack_from(self.view, self.base + off + self._off_field)
        if to != self.entry_size or nxt != self.head_size:
            return None
        t = self.base + off + to
        if self.view[t + 2: t + 8] != b"ERROR\x00":
            return None
        raw = bytes(self.view[t + 32: t + 62])
        return raw.split(b"\x00", 1)[0].decode(errors="replace")

    def locate(self, names: Iterable[str]) -> None:
        """Find the ERROR heads of user chains by name: one scan of the copy for all names not yet looked up."""
        todo = sorted({n for n in names if n not in self._looked_up and n not in self.heads and n not in _HOOKS})
        if not todo:
            return
        self._looked_up.update(todo)
        pattern = re.compile(rb"ERROR\x00{25}(" + b"|".join(re.escape(n.encode()) for n in todo) + rb")\x00")
        for m in pattern.finditer(self.view, self.base):
            off = m.start() - 2 - self.entry_size - self.base
            name = m.group(1).decode()
            if off >= 0 and self._error_name(off) == name:  # a real head, not a comment that looks like one
                self.heads.setdefault(name, off)

    def builtin(self, name: str) -> tuple[int, int] | None:
        if name not in _HOOKS:
            return None
        hook = _HOOKS.index(name)
        if not self.info.valid_hooks & (1 << hook):
            return None
        return self.info.hook_entry[hook], self.info.underflow[hook]

    def has_chain(self, name: str) -> bool:
        if name in _HOOKS:
            return self.builtin(name) is not None
        if name in self.heads:  # located, or reached by a jump
            return True
        self.locate([name])
        return name in self.heads

    def entries(self, name: str, only: set[str] | None = None) -> list[tuple[int, int]]:
        """(position, offset) of the chain's rules, in order (a user chain's foot left out).

        ``only``: keep just the rules that jump to these chains or to no per-service chain at all,
        without naming every target (KUBE-SERVICES has a rule per Service port: 10,000s).
        """
        bounds = self.builtin(name)
        if bounds is not None:
            out: list[tuple[int, int]] = []
            off = bounds[0]
            while off < bounds[1]:
                out.append((len(out) + 1, off))
                off += self.next_offset(off)
            return out
        self.locate([name])
        head = self.heads.get(name)
        if head is None:
            return []
        if only is not None:
            self.locate(only)
        keep = {self.heads[n] + self.head_size for n in (only or ()) if n in self.heads}
        view, base, field, es, hs = self.view, self.base, self._off_field, self.entry_size, self.head_size
        unpack, verdict = self._offsets.unpack_from, struct.Struct("=i").unpack_from
        out, off, position = [], head + hs, 0
        while off < self.info.size:
            to, nxt = unpack(view, base + off + field)
            if nxt < es:
                raise self._corrupt(off)
            t = base + off + to
            if to == es and nxt == hs and view[t + 2: t + 8] == b"ERROR\x00":
                break  # the next chain's head
            position += 1
            if only is None or view[t + 2] != 0:
                out.append((position, off))  # every rule, or a target module (not a jump)
            else:
                v = verdict(view, t + 32)[0]
                if v < 0 or v == off + nxt or v in keep:
                    out.append((position, off))
                else:
                    n = base + v - hs + es + 32  # the jumped-to chain's name, in its ERROR head
                    if not bytes(view[n: n + 9]).startswith(_SERVICE_PREFIXES):
                        out.append((position, off))
            off += nxt
        if out and out[-1][0] == position:
            out.pop()  # the last entry is the chain's RETURN foot
        return out

    def chain_at(self, offset: int) -> str | None:
        """The user chain whose first entry is at ``offset`` (a jump's verdict)."""
        head = offset - self.head_size
        name = self._error_name(head) if head >= 0 else None
        if name:
            self.heads.setdefault(name, head)
        return name

    def verdict(self, off: int) -> int | None:
        """A standard target's verdict; None for a module target (DNAT, MARK, …)."""
        to = self._offsets.unpack_from(self.view, self.base + off + self._off_field)[0]
        t = self.base + off + to
        if self.view[t + 2] != 0:  # a named target
            return None
        return struct.unpack_from("=i", self.view, t + 32)[0]

    def target(self, off: int) -> str | None:
        """What iptables-save prints after -j/-g: a chain, a verdict, a target module; None for none."""
        v = self.verdict(off)
        if v is None:
            to = self._offsets.unpack_from(self.view, self.base + off + self._off_field)[0]
            t = self.base + off + to
            return bytes(self.view[t + 2: t + 31]).split(b"\x00", 1)[0].decode(errors="replace")
        if v < 0:
            return _VERDICTS.get(v, str(v))
        if v == off + self.next_offset(off):
            return None  # falls through: a rule without a target
        return self.chain_at(v) or f"(offset {v})"

    def counters(self, off: int) -> tuple[int, int]:
        return struct.unpack_from("=QQ", self.view, self.base + off + self.entry_size - 16)

    def policy(self, name: str) -> tuple[str | None, int, int] | None:
        bounds = self.builtin(name)
        if bounds is None:
            return None
        packets, nbytes = self.counters(bounds[1])
        return self.target(bounds[1]), packets, nbytes

    def count_rules(self, name: str) -> int:
        return len(self.entries(name))


# --- reading one Service's chains -------------------------------------------------------------------


def read_legacy(service_chains: Iterable[str], family: int = 4, existing: set[str] | None = None) -> RuleSet:
    """The legacy nat and filter chains one Service needs, as a RuleSet with counters.

    ``service_chains``: the Service's per-port chains (KUBE-SVC-/SVL-/EXT-/FW-…); jumps from them
    to KUBE-SEP- (or between them) are followed. ``existing``: /proc/net/ip(6)_tables_names.
    """
    existing = legacy_table_names(family) if existing is None else existing
    iptc = import_iptc()
    from iptc import version as iptc_version  # noqa: PLC0415

    source = "local python-iptables (legacy)" if family == 4 else "local python-iptables (legacy, IPv6)"
    ruleset = RuleSet()
    info = DumpInfo(source=source, form="python-iptables", reader="python-iptables",
                    reader_version=iptc_version.__version__, backend="legacy", has_counters=True)
    wanted = set(service_chains)
    for table_name, fixed in (("nat", NAT_CHAINS), ("filter", FILTER_CHAINS)):
        table = kernel_table(table_name, family, existing)
        if table is None:
            continue
        reader = _Reader(iptc, table, source, info)
        queue = list(fixed) + (sorted(wanted) if table_name == "nat" else [])
        table.locate(queue)
        out = ruleset.ensure_table(table_name)
        seen: set[str] = set()
        while queue:
            name = queue.pop(0)
            if name in seen or not table.has_chain(name):
                continue
            seen.add(name)
            dispatch = (table_name, name) in DISPATCH_CHAINS
            chain = reader.read_chain(name, wanted if dispatch else None)
            out.chains[name] = chain
            if not dispatch:  # follow this Service's own jumps: FW -> EXT -> SVC/SVL -> SEP
                queue += [r.target for r in chain.rules if r.target and r.target.startswith(SERVICE_CHAIN_PREFIXES)]
        if not out.chains:
            del ruleset.tables[table_name]
    ruleset.dumps.append(info)
    return ruleset


class _EntryRule:
    """What iptc.Match/iptc.Target need of "their rule": the family, and the entry's ip part.

    Its table list is empty on purpose: iptc's Target looks there for chain names, and iptc.Rule
    would fill it by probing every table, which creates the missing ones.
    """

    def __init__(self, ip: Any, nfproto: int) -> None:
        self._ip = ip
        self.nfproto = nfproto
        self.tables: list[Any] = []

    def get_ip(self) -> Any:  # iptc's Match/Target read the entry's ip part through it (ip4tc.py)
        return self._ip


class _Reader:
    def __init__(self, iptc: Any, table: KernelTable, source: str, info: DumpInfo) -> None:
        from iptc.ip4tc import ipt_entry  # noqa: PLC0415
        from iptc.ip6tc import ip6t_entry  # noqa: PLC0415
        from iptc.xtables import NFPROTO_IPV4, NFPROTO_IPV6, xt_entry_match, xt_entry_target  # noqa: PLC0415

        self.iptc, self.table, self.source, self.info = iptc, table, source, info
        self.entry_cls = ipt_entry if table.family == 4 else ip6t_entry
        self.nfproto = NFPROTO_IPV4 if table.family == 4 else NFPROTO_IPV6
        self.match_cls, self.target_cls = xt_entry_match, xt_entry_target

    def read_chain(self, name: str, only_targets: set[str] | None) -> Chain:
        """Decode one chain; with ``only_targets``, skip rules that jump to another Service's chains."""
        chain = Chain(name, declared=True, packets=0, bytes=0)  # iptables-save prints [0:0] for user chains
        policy = self.table.policy(name)
        if policy is not None:
            chain.policy, chain.packets, chain.bytes = policy
        for position, off in self.table.entries(name, only_targets):
            chain.rules.append(self._rule(name, off, position, self.table.target(off)))
        if only_targets is None:  # every rule of it decoded: a rule it lacks is absent (the table is not all read)
            chain.complete = True
        return chain

    def _rule(self, chain: str, off: int, position: int, target: str | None) -> Rule:
        table = self.table
        packets, nbytes = table.counters(off)
        rule = Rule(table=table.name, chain=chain, position=position, source=self.source, line_no=0, raw="",
                    packets=packets, bytes=nbytes, target=target)
        entry = self.entry_cls.from_buffer(table.buf, table.base + off)
        ip = entry.ip if table.family == 4 else entry.ipv6
        parts = [f"[{packets}:{nbytes}] -A {chain}"]
        for flag, field, value in (("-s", "source_addr", _address(ip.src, ip.smsk, ip.invflags & 0x08, table.family)),
                                   ("-d", "dest_addr", _address(ip.dst, ip.dmsk, ip.invflags & 0x10, table.family)),
                                   ("-i", "in_iface", _iface(ip.iniface, ip.iniface_mask, ip.invflags & 0x01)),
                                   ("-o", "out_iface", _iface(ip.outiface, ip.outiface_mask, ip.invflags & 0x02))):
            if value:
                setattr(rule, field, value)
                parts.append(("! " if value.startswith("!") else "") + f"{flag} {value.lstrip('!')}")
        proto = _protocol(ip.proto, bool(ip.invflags & _XT_INV_PROTO))
        if proto:
            rule.protocol = proto
            parts.append(("! " if proto.startswith("!") else "") + f"-p {proto.lstrip('!')}")
        if table.family == 4 and ip.flags & _IPT_F_FRAG:
            parts.append(("! " if ip.invflags & _IPT_INV_FRAG else "") + "-f")
        owner = _EntryRule(ip, self.nfproto)
        try:
            moff = table.entry_size
            while moff < entry.target_offset:
                m = self.match_cls.from_buffer(table.buf, table.base + off + moff)
                size = m.u.match_size
                match = self.iptc.Match(owner, match=m)
                saved = _saved(match, ip)
                rule.matches.append(match.name)
                _options(saved, rule.options)
                parts.append(f"-m {match.name}" + (f" {saved}" if saved else ""))
                moff += size
            if target:
                rule.goto = bool(ip.flags & table.goto_flag)
                parts.append(f"-{'g' if rule.goto else 'j'} {target}")
                if table.verdict(off) is None:  # a target module: its options
                    t = self.target_cls.from_buffer(table.buf, table.base + off + entry.target_offset)
                    saved = _saved(self.iptc.Target(owner, target=t), ip)
                    if saved:
                        _options(saved, rule.target_options)
                        parts.append(saved)
        except Exception as e:  # noqa: BLE001 - an extension this host lacks: keep what the entry itself says
            self.info.skipped.append(f"{chain} rule {position}: cannot decode ({e})")
            parts.append(f"… (undecodable: {e})")
        derive_fields(rule, strict=False)
        rule.raw = " ".join(parts)
        return rule


def _address(addr: Any, mask: Any, inverted: int, family: int) -> str | None:
    """An address as iptables-save prints it: "addr/prefix" ("addr/dotted-mask" if not contiguous)."""
    if family == 4:
        a, m = struct.pack("=I", addr.s_addr), struct.pack("=I", mask.s_addr)  # stored in network order
        if a == m == b"\x00" * 4:
            return None
        text = socket.inet_ntop(socket.AF_INET, a)
        bits = int.from_bytes(m, "big")
        prefix = bin(bits).count("1")
        suffix = str(prefix) if bits == ((1 << 32) - 1) ^ ((1 << (32 - prefix)) - 1) else socket.inet_ntop(socket.AF_INET, m)
    else:
        a, m = bytes(addr.s6_addr), bytes(mask.s6_addr)
        if a == m == b"\x00" * 16:
            return None
        text = socket.inet_ntop(socket.AF_INET6, a)
        bits = int.from_bytes(m, "big")
        prefix = bin(bits).count("1")
        suffix = str(prefix) if bits == ((1 << 128) - 1) ^ ((1 << (128 - prefix)) - 1) else socket.inet_ntop(socket.AF_INET6, m)
    return ("!" if inverted else "") + f"{text}/{suffix}"


def _iface(name: bytes, mask: bytes, inverted: int) -> str | None:
    """An interface as iptables-save prints it: "eth0", "cali+" (mask shorter than name+NUL = wildcard)."""
    if not mask:
        return None
    text = name.decode(errors="replace")
    if len(mask) == len(text):  # the NUL is not compared: a prefix match
        text += "+"
    return ("!" if inverted else "") + text


def _protocol(number: int, inverted: bool) -> str | None:
    if not number and not inverted:
        return None
    name = _PROTOCOLS.get(number, str(number)) if number else "all"
    return ("!" if inverted else "") + name


def _saved(module: Any, ip: Any) -> str:
    """The text the extension's own save() prints: exactly what iptables-save shows after -m/-j."""
    # iptc exposes it only through the private _get_saved_buf (its get_all_parameters re-splits it
    # with shlex, which mangles quotes); fall back to rebuilding it from the parameters.
    getter = getattr(module, "_get_saved_buf", None)
    if getter is not None:
        buf = getter(ip)
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
            into[w], i = option_values(words, i, negate)
            negate = False
            continue
        i += 1  # a stray value: keep going, the raw line still shows it
