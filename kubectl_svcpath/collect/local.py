"""Read kube-proxy's rules from this machine's own kernel (``--local``), without changing anything.

Which backend holds them is decided the way kube-proxy's iptables-wrapper decides (kubelet's
KUBE-IPTABLES-HINT / KUBE-KUBELET-CANARY chains in the mangle table), with probes that create
no state (iptables-version-skew.md §8): ``/proc/net/ip_tables_names``, and the kernel's copy of
only the tables listed there, for legacy; ``nft -j list …`` and plain ``iptables-nft-save -c``
(never ``-t``, ``-L``, ``-S``) for nf_tables.

- legacy: only the chains the Service needs, decoded by python-iptables (collect/iptc_reader.py);
- nf_tables: ``iptables-nft-save -c`` as text, plus the kernel's own view of the same tables,
  ``nft -j list table ip nat`` / ``ip filter``, which shows port and mark matches an older
  iptables cannot print (skew.py compares the two);
- nftables proxy mode: ``nft -j list table ip kube-proxy``.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from collections.abc import Iterable
from dataclasses import dataclass, field

from kubectl_svcpath.collect import iptc_reader
from kubectl_svcpath.dump import Collection, RuleDump
from kubectl_svcpath.errors import CollectFailed, NotFound
from kubectl_svcpath.modes.ipvs.detect import TITLE as IPVS_TITLE
from kubectl_svcpath.wording import counted

TIMEOUT = 300.0  # seconds per command; `nft -j list` of a 50k-rule table takes ~4 s
HINT_CHAINS = iptc_reader.HINT_CHAINS
_NFT_FAMILY = {4: "ip", 6: "ip6"}
_SAVE = {4: "iptables-nft-save", 6: "ip6tables-nft-save"}
_VERSION = {"nf_tables": "iptables-nft", "legacy": "iptables-legacy"}
_PERMISSION = re.compile(r"permission denied|operation not permitted|you must be root", re.I)
# kube-proxy's own nat chains (kubelet's KUBE-MARK-*/KUBE-POSTROUTING do not say kube-proxy ran here)
_LEGACY_KUBE_CHAINS = ("KUBE-SERVICES", "KUBE-NODEPORTS")
_KUBE_PROXY_CHAIN = re.compile(r"^KUBE-(SERVICES|NODEPORTS|SVC-|SVL-|SEP-|EXT-|FW-|XLB-)")


@dataclass(slots=True)
class Run:
    argv: list[str]
    returncode: int
    stdout: str
    stderr: str

    @property
    def command(self) -> str:
        return " ".join(self.argv)


def run(argv: list[str], timeout: float = TIMEOUT) -> Run | None:
    """Run a read-only command (no shell); None when the binary is not installed."""
    env = dict(os.environ, LC_ALL="C")
    try:
        proc = subprocess.run(argv, capture_output=True, text=True, errors="replace", timeout=timeout, env=env,
                              stdin=subprocess.DEVNULL, check=False)
    except FileNotFoundError:
        return None
    except subprocess.TimeoutExpired:
        raise CollectFailed(f"`{' '.join(argv)}` did not finish within {timeout:.0f} s",
                            hint="the tables may be very large or the kernel busy; save them to a file and use --rules-file") from None
    except PermissionError as e:
        raise CollectFailed(f"cannot run {argv[0]}: {e}", hint="run --local as root (sudo)") from None
    result = Run(argv, proc.returncode, proc.stdout, proc.stderr)
    if result.returncode != 0 and _PERMISSION.search(result.stderr):
        raise CollectFailed(f"`{result.command}`: {_first_line(result.stderr)}",
                            hint="reading netfilter tables needs root: run with sudo, on the node (or nsenter -t 1 -n)")
    return result


def _first_line(text: str) -> str:
    for line in text.splitlines():
        if line.strip():
            return line.strip()
    return "(no message)"


@dataclass(slots=True)
class NftSide:
    """What the nf_tables backend holds, read with nft (or iptables-nft-save when nft is missing)."""

    available: bool = False  # iptables-nft's tables could be read at all
    via_nft: bool = False  # read with nft itself: the kernel's view (JSON) is available
    tables: set[tuple[str, str]] = field(default_factory=set)
    hints: list[str] = field(default_factory=list)  # "KUBE-IPTABLES-HINT in iptables-nft (ip mangle)"
    kube_chains: dict[str, int] = field(default_factory=dict)  # "ip nat" -> number of kube-proxy chains
    saves: dict[int, Run] = field(default_factory=dict)  # family -> iptables-nft-save -c, when already run


@dataclass(slots=True)
class LegacySide:
    tables: dict[int, set[str]] = field(default_factory=dict)  # family -> /proc/net/ip(6)_tables_names
    hints: list[str] = field(default_factory=list)
    kube_rules: dict[str, int] = field(default_factory=dict)  # "nat KUBE-SERVICES" -> rules


@dataclass(slots=True)
class Probe:
    nft: NftSide
    legacy: LegacySide
    kube_proxy_tables: list[str]  # nftables mode: "ip kube-proxy", "ip6 kube-proxy"

    @property
    def nft_holds(self) -> bool:
        return any(self.nft.kube_chains.values())

    @property
    def legacy_holds(self) -> bool:
        return any(self.legacy.kube_rules.values())


def probe_nft() -> NftSide:
    side = NftSide()
    listed = run(["nft", "-j", "list", "tables"])
    if listed is not None and listed.returncode == 0:
        side.available = side.via_nft = True
        for item in _nft_items(listed.stdout, "table"):
            side.tables.add((item.get("family", ""), item.get("name", "")))
        for family in ("ip", "ip6"):
            if (family, "mangle") in side.tables:
                mangle = run(["nft", "-j", "list", "table", family, "mangle"])
                names = {c.get("name") for c in _nft_items(mangle.stdout, "chain")} if mangle and mangle.returncode == 0 else set()
                side.hints += [f"{h} in iptables-nft ({family} mangle)" for h in HINT_CHAINS if h in names]
            if (family, "nat") in side.tables:
                chains = run(["nft", "-j", "list", "chains", family])
                if chains is not None and chains.returncode == 0:
                    side.kube_chains[f"{family} nat"] = sum(
                        1 for c in _nft_items(chains.stdout, "chain")
                        if c.get("table") == "nat" and _KUBE_PROXY_CHAIN.match(c.get("name", "")))
        return side
    # no nft binary (or it failed): iptables-nft-save tells the same, from the whole dump
    for version in (4, 6):
        save = run([_SAVE[version], "-c"])
        if save is None or save.returncode != 0:
            continue
        side.available = True
        side.saves[version] = save
        fam = _NFT_FAMILY[version]
        sections = _save_sections(save.stdout)
        side.hints += [f"{h} in iptables-nft ({fam} mangle)" for h in HINT_CHAINS if h in sections.get("mangle", set())]
        side.kube_chains[f"{fam} nat"] = sum(1 for c in sections.get("nat", set()) if _KUBE_PROXY_CHAIN.match(c))
        side.tables |= {(fam, t) for t in sections}
    return side


def _nft_items(text: str, kind: str) -> list[dict]:
    try:
        doc = json.loads(text)
    except ValueError:
        return []
    return [item[kind] for item in doc.get("nftables", []) if isinstance(item, dict) and kind in item]


def _save_sections(text: str) -> dict[str, set[str]]:
    """iptables-save text -> table -> declared chain names."""
    out: dict[str, set[str]] = {}
    table = None
    for line in text.splitlines():
        if line.startswith("*"):
            table = line[1:].strip()
            out.setdefault(table, set())
        elif line.startswith(":") and table:
            out[table].add(line[1:].split(" ", 1)[0])
    return out


def probe_legacy(want: Iterable[str] = ()) -> LegacySide:
    """What iptables-legacy holds: only tables /proc lists are read (asking for another would create it).

    ``want``: chain names the read that may follow will need, located in the same scan.
    """
    side = LegacySide()
    for family, label in ((4, "iptables-legacy"), (6, "ip6tables-legacy")):
        existing = side.tables[family] = iptc_reader.legacy_table_names(family)
        mangle = iptc_reader.kernel_table("mangle", family, existing)
        if mangle is not None:
            mangle.locate(HINT_CHAINS)
            side.hints += [f"{h} in {label} (mangle)" for h in HINT_CHAINS if mangle.has_chain(h)]
        nat = iptc_reader.kernel_table("nat", family, existing)
        if nat is not None:
            nat.locate([*_LEGACY_KUBE_CHAINS, *iptc_reader.NAT_CHAINS, *want])
            for chain in _LEGACY_KUBE_CHAINS:
                if nat.has_chain(chain):
                    side.kube_rules[f"{label} nat {chain}"] = nat.count_rules(chain)
    return side


def probe(want: Iterable[str] = ()) -> Probe:
    nft = probe_nft()
    legacy = probe_legacy(want)
    kube_proxy = [f"{fam} kube-proxy" for fam in ("ip", "ip6") if (fam, "kube-proxy") in nft.tables]
    return Probe(nft, legacy, kube_proxy)


def choose_backend(p: Probe) -> tuple[str | None, list[str]]:
    """iptables-wrapper's order (nft hint, legacy hint, then the backend holding rules), checked against the rules.

    A hint in a backend without any kube-proxy chain loses to the backend that has them: kubelet
    and kube-proxy may disagree, and the rules are what the kernel runs. None: no kube-proxy rules.
    """
    holds = {"nf_tables": p.nft_holds, "legacy": p.legacy_holds}
    hints = {"nf_tables": p.nft.hints, "legacy": p.legacy.hints}
    if not any(holds.values()):
        return None, []
    for backend in ("nf_tables", "legacy"):
        if hints[backend] and holds[backend]:
            return backend, [f"backend {backend}: {hints[backend][0]}"]
    chosen = "nf_tables" if holds["nf_tables"] else "legacy"
    hinted = next((h[0] for h in hints.values() if h), None)
    why = (f"kube-proxy's chains are there, although {hinted}" if hinted
           else "no KUBE-IPTABLES-HINT chain anywhere; kube-proxy's chains are there")
    return chosen, [f"backend {chosen}: {why}"]


def collect_local(service_chains: set[str], families: tuple[int, ...] = (4,)) -> Collection:
    """This machine's kube-proxy rules: text dumps and/or python-iptables RuleSets, with the backend facts.

    ``service_chains``: the Service's per-port chain names (KUBE-SVC-/SVL-/EXT-/FW-…, from the hash,
    correlate.iptables.expected_chains); the legacy reader adds the fixed chains and follows jumps to
    KUBE-SEP-. ``families``: 4 and/or 6.
    """
    p = probe(service_chains)
    backend, evidence = choose_backend(p)
    evidence += [f"iptables-nft {k}: {counted(n, 'kube-proxy chain')}" for k, n in sorted(p.nft.kube_chains.items()) if n]
    evidence += [f"{k}: {counted(n, 'rule')}" for k, n in sorted(p.legacy.kube_rules.items())]
    for family, label in ((4, "iptables-legacy"), (6, "ip6tables-legacy")):
        if p.legacy.tables.get(family):
            evidence.append(f"{label} tables present: {', '.join(sorted(p.legacy.tables[family]))} "
                            f"({iptc_reader.PROC_NAMES[family]})")
    collection = Collection(dumps=[], backend=backend, backend_evidence=evidence,
                            proxy_mode_source="this machine's tables (--local)")
    if backend is None and not p.kube_proxy_tables:
        raise NotFound("no kube-proxy rules on this machine: neither iptables-nft nor iptables-legacy has KUBE-SERVICES, "
                       "and there is no nftables table kube-proxy",
                       hint="run --local on a node where kube-proxy runs, as root, in the host's network namespace "
                            "(from a debug pod: nsenter -t 1 -n kubectl-svcpath …)")
    if backend == "nf_tables":
        collection.other_backend_rules = p.legacy_holds
        _read_nft_backend(collection, p, families)
    elif backend == "legacy":
        collection.other_backend_rules = p.nft_holds
        for family in families:
            existing = p.legacy.tables.get(family, set())
            if "nat" in existing or "filter" in existing:
                collection.rulesets.append(iptc_reader.read_legacy(service_chains, family, existing))
        collection.notes.append("read with python-iptables (legacy backend): only the chains of this Service, "
                                "KUBE-SERVICES/KUBE-NODEPORTS rules of other Services left out")
    if p.kube_proxy_tables:
        for name in p.kube_proxy_tables:
            fam = name.split()[0]
            if fam == "ip6" and 6 not in families:
                continue
            _add_nft_json(collection, fam, "kube-proxy")
        if not (p.nft_holds or p.legacy_holds):
            collection.proxy_mode = "nftables"
    if backend is not None and collection.proxy_mode is None and _service_chain_present(collection, p, service_chains):
        collection.proxy_mode = "iptables"
    if collection.proxy_mode is None:  # no service chain, no nftables table: IPVS mode has neither
        add_ipvs(collection)
    collection.reader_version = reader_version(backend, collection)
    from kubectl_svcpath.collect.kube_proxy_pod import utc_now

    collection.collected_at = utc_now()
    return collection


def _read_nft_backend(collection: Collection, p: Probe, families: tuple[int, ...]) -> None:
    for family in families:
        save = p.nft.saves.get(family) or run([_SAVE[family], "-c"])  # never -t: it has side effects on some versions
        if save is not None and family == 6 and not save.stdout.strip() and save.returncode == 0:
            continue  # no IPv6 tables at all: nothing to read, nothing to parse
        if save is None:
            raise CollectFailed(f"{_SAVE[family]} is not installed, but kube-proxy's rules are in nf_tables",
                                hint="install iptables (it provides iptables-nft-save), or read the rules in the kube-proxy pod")
        if save.returncode != 0 and not _partial_parse_failure(save):
            raise CollectFailed(f"`{save.command}` failed (exit {save.returncode}): {_first_line(save.stderr)}",
                                hint="read the kernel's view instead: nft -j list table ip nat > nat.json; kubectl svcpath … --rules-file nat.json")
        collection.dumps.append(RuleDump(text=save.stdout, source=f"local: {save.command}", format="iptables-save",
                                         kind="local", stderr=save.stderr, returncode=save.returncode))
        fam = _NFT_FAMILY[family]
        if p.nft.via_nft:
            for table in ("nat", "filter"):
                if (fam, table) in p.nft.tables:
                    _add_nft_json(collection, fam, table)
    if not p.nft.via_nft:
        collection.notes.append("nft is not installed: the kernel's view of the rules (nft -j list table ip nat) "
                                "could not be read, so port matches hidden from iptables cannot be shown")


def _partial_parse_failure(save: Run) -> bool:
    """iptables-nft-save >= 1.8.9 stops with exit 3 at a rule it cannot parse; what it printed is still worth reading."""
    return bool(save.stdout.strip()) and "Parsing nftables rule failed" in save.stderr


def _add_nft_json(collection: Collection, family: str, table: str) -> None:
    result = run(["nft", "-j", "list", "table", family, table])
    if result is None:
        return
    if result.returncode != 0:
        raise CollectFailed(f"`{result.command}` failed (exit {result.returncode}): {_first_line(result.stderr)}",
                            hint="check that nft works here: nft list tables")
    collection.dumps.append(RuleDump(text=result.stdout, source=f"local: {result.command}", format="nft-json",
                                     kind="local", stderr=result.stderr, returncode=result.returncode))


PROC_IP_VS = "/proc/net/ip_vs"  # the kernel's IPVS table of this network namespace (read-only)


def add_ipvs(collection: Collection, proc: str = PROC_IP_VS) -> None:
    """IPVS mode's table: the kernel's own listing (no tool needed), ipvsadm's counters and kube-proxy's sets
    (`ipset list`) when those tools are installed. Nothing when the kernel has no IPVS table or holds no
    virtual server in it."""
    try:
        with open(proc, encoding="utf-8", errors="replace") as f:
            text = f.read(64 << 20)
    except OSError:
        return
    if not text.startswith(IPVS_TITLE) or len(text.splitlines()) <= 3:  # (title and heads only)
        return
    stats = run(["ipvsadm", "-Ln", "--stats", "--exact"], timeout=60)
    if stats is not None and stats.returncode == 0 and stats.stdout.startswith(IPVS_TITLE):
        collection.dumps.append(RuleDump(text=stats.stdout, source=f"local: {stats.command}", format="ipvsadm",
                                         kind="local", returncode=0))
    elif stats is not None:  # (not installed: the listing's own note and the checks say what is missing)
        collection.notes.append(f"`{stats.command}` failed (exit {stats.returncode}: {_first_line(stats.stderr) or 'no output'}): "
                                "the IPVS table was read from /proc/net/ip_vs alone")
    collection.dumps.append(RuleDump(text=text, source=proc, format="ipvsadm", kind="local"))
    _add_ipsets(collection, run(["ipset", "list"], timeout=60))


def _add_ipsets(collection: Collection, sets: Run | None) -> None:
    """kube-proxy's sets, as the pod's `ipset list` is read live; without them, a note says what that costs."""
    from kubectl_svcpath.collect.kube_proxy_pod import IPSETS_UNREAD

    if sets is None:
        collection.notes.append(f"ipset is not installed here: {IPSETS_UNREAD}")
    elif sets.returncode != 0:
        collection.notes.append(f"`ipset list` failed (exit {sets.returncode}): {_first_line(sets.stderr)}: {IPSETS_UNREAD}")
    elif not sets.stdout.strip():
        collection.notes.append("`ipset list` lists no set: kube-proxy's IPVS sets (KUBE-CLUSTER-IP, …) are not on this "
                                "node; kube-proxy creates them at start in IPVS mode (see its log)")
    else:
        collection.dumps.append(RuleDump(text=sets.stdout, source="local: ipset list", format="ipset", kind="local",
                                         returncode=0))


def _service_chain_present(collection: Collection, p: Probe, service_chains: set[str]) -> bool:
    for rs in collection.rulesets:
        nat = rs.table("nat")
        if nat and any(c in nat.chains for c in service_chains):
            return True
    for dump in collection.dumps:
        if dump.format == "iptables-save" and any(f":{c} " in dump.text for c in service_chains):
            return True
    return False


def iptables_version(binary: str = "iptables") -> str | None:
    """``iptables v1.8.9 (nf_tables)`` as the binary prints it; None when it is not installed."""
    result = run([binary, "--version"], timeout=30)
    if result is None or result.returncode != 0:
        return None
    line = _first_line(result.stdout)
    return line if line.startswith(("iptables", "ip6tables")) else None


def reader_version(backend: str | None, collection: Collection) -> str | None:
    """This machine's ``iptables --version``; the backend's own binary when ``iptables`` is the other variant."""
    plain = iptables_version("iptables")
    if backend is None:
        return plain
    if plain and f"({backend})" in plain:
        return plain
    variant = iptables_version(_VERSION[backend])
    if plain and variant:
        other = "legacy" if backend == "nf_tables" else "nf_tables"
        collection.notes.append(f"`iptables` on this machine is {plain}: it shows the {other} backend, "
                                f"but kube-proxy's rules are in {backend} (read with {_VERSION[backend]})")
    return variant or plain
