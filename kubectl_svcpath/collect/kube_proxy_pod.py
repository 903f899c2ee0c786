"""A node's rules, read in its kube-proxy pod: find the pod, learn the proxy mode, run the listings.

Pure helpers (``mode_from_config``, ``mode_from_command``, ``commands_for``, ``check_output``)
decide; ``find_pods``, ``cluster_mode`` and ``collect`` do the I/O through kube/.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from kubectl_svcpath import apifields
from kubectl_svcpath.dump import Collection, RuleDump
from kubectl_svcpath.errors import BadDump, CollectFailed, Forbidden, NotFound, SvcpathError, Unsupported
from kubectl_svcpath.kube import exec as kexec
from kubectl_svcpath.kube import reads
from kubectl_svcpath.kube.client import Kube, one_line
from kubectl_svcpath.modes.base import Mode
from kubectl_svcpath.modes.ipvs.detect import TITLE as IPVS_TITLE
from kubectl_svcpath.modes.registry import MODE_NAMES as MODES

NAMESPACE = "kube-system"
LABEL_SELECTORS = ("k8s-app=kube-proxy", "component=kube-proxy")  # kubeadm/kind/EKS DaemonSets; GKE static pods
CONFIGMAP = "kube-proxy"
CONFIG_KEY = "config.conf"

NO_POD_HINT = ("kube-proxy may not run as a pod here: a kube-proxy-free CNI (Cilium, …) replaces it, k3s/RKE2 embed "
               "it in their own process, or its DaemonSet uses other labels. On the node run "
               "`kubectl svcpath SERVICE --local`, or save `iptables-save -c` there and pass it with --rules-file")


@dataclass(frozen=True, slots=True)
class ConfigFile:
    """The file kube-proxy's ``--config`` names and where the pod takes it from: a key of a ConfigMap (EKS:
    kube-proxy-config, key config; kubeadm: kube-proxy, key config.conf), or another volume (``elsewhere``,
    e.g. "hostPath /etc/kubernetes"), whose file the API does not hold. Neither: no volume of the pod holds it."""

    path: str
    configmap: str | None = None
    key: str | None = None
    elsewhere: str | None = None


@dataclass(slots=True)
class ProxyPod:
    name: str
    namespace: str
    node: str
    container: str | None
    phase: str
    deleting: bool
    command: list[str] = field(default_factory=list)  # the container's command + args
    os: str | None = None  # the OS the pod says it runs on (spec.os.name, else its kubernetes.io/os node selector)
    # why the container does not run, from its status (CrashLoopBackOff, ImagePullBackOff, …); None: running or not said
    not_running: str | None = None
    config: ConfigFile | None = None  # the file its --config names, and where that file comes from; None: no --config

    @property
    def ref(self) -> str:
        return f"{self.namespace}/{self.name}"


@dataclass(slots=True)
class ModeInfo:
    mode: str | None  # None: let the core tell from the rules
    source: str | None
    notes: list[str] = field(default_factory=list)


# --- pure ------------------------------------------------------------------------------

def pod_from_json(obj: dict[str, Any], container: dict[str, Any] | None = None) -> ProxyPod:
    """A kube-proxy pod and the container that runs kube-proxy (``container``, else the one named kube-proxy,
    else the first whose image or command is kube-proxy's, else the first: a sidecar may come before it)."""
    containers = [c for c in apifields.items(obj, "spec", "containers") if isinstance(c, dict)]
    chosen = container if container is not None else next(
        (c for c in containers if c.get("name") == "kube-proxy"),
        next((c for c in containers if runs_kube_proxy(c)), containers[0] if containers else {}))
    name = apifields.text(chosen, "name")
    return ProxyPod(
        name=apifields.text(obj, "metadata", "name") or "", namespace=apifields.text(obj, "metadata", "namespace") or NAMESPACE,
        node=apifields.text(obj, "spec", "nodeName") or "", container=name,
        phase=apifields.text(obj, "status", "phase") or "Unknown", deleting=bool(apifields.dig(obj, "metadata", "deletionTimestamp")),
        command=(command := command_words(apifields.words(chosen, "command") + apifields.words(chosen, "args"))),
        os=(apifields.text(obj, "spec", "os", "name") or apifields.text(obj, "spec", "nodeSelector", "kubernetes.io/os") or "").lower() or None,
        not_running=_not_running(obj, name), config=config_file(obj, chosen, config_path(command)),
    )


_SHELLS = ("sh", "bash", "ash", "dash")


def command_words(argv: list[str]) -> list[str]:
    """A container's command and args as kube-proxy gets them: a shell's ``-c`` script (GKE's static pod:
    ``/bin/sh -c "exec kube-proxy --master=… --proxy-mode=ipvs 1>>/var/log/kube-proxy.log 2>&1"``) split
    into its words; any other argv as it is."""
    if len(argv) < 3 or argv[0].rsplit("/", 1)[-1] not in _SHELLS or argv[1] != "-c":
        return argv
    import shlex

    try:
        return shlex.split(argv[2])
    except ValueError:  # (an unbalanced quote: the script's words are not known)
        return argv


def config_path(argv: list[str]) -> str | None:
    """The file of ``--config=PATH`` or ``--config PATH``, if given."""
    for i, arg in enumerate(argv):
        if arg.startswith("--config="):
            return arg.split("=", 1)[1] or None
        if arg == "--config" and i + 1 < len(argv):
            return argv[i + 1]
    return None


def config_file(pod: dict[str, Any], container: dict[str, Any], path: str | None) -> ConfigFile | None:
    """Where the container's ``path`` comes from: the volume mounted deepest above it (or at it, with subPath)."""
    if path is None:
        return None
    best: tuple[int, dict[str, Any], str] | None = None
    for mount in apifields.items(container, "volumeMounts"):
        at = (apifields.text(mount, "mountPath") or "").rstrip("/")
        if at and (path == at or path.startswith(at + "/")) and (best is None or len(at) > best[0]):
            best = (len(at), mount, path[len(at) + 1:])
    if best is None:
        return ConfigFile(path)
    _, mount, rest = best
    sub = (apifields.text(mount, "subPath") or "").strip("/")
    within = "/".join(p for p in (sub, rest) if p)  # the file's path inside the volume
    volume = next((v for v in apifields.items(pod, "spec", "volumes") if apifields.text(v, "name") == apifields.text(mount, "name")), None)
    source = apifields.dig(volume, "configMap")
    if isinstance(source, dict):
        items = [i for i in apifields.items(source, "items") if isinstance(i, dict)]
        key = (next((apifields.text(i, "key") for i in items if apifields.text(i, "path") == within), None) if items
               else within if within and "/" not in within else None)
        return ConfigFile(path, apifields.text(source, "name"), key) if key else ConfigFile(path)
    kind = next((k for k in (volume or {}) if k != "name"), None)
    if kind is None:
        return ConfigFile(path)
    where = apifields.text(volume, kind, "path") if kind == "hostPath" else None
    return ConfigFile(path, elsewhere=f"{kind} {where}" if where else f"a {kind} volume")


def _not_running(obj: dict[str, Any], container: str | None) -> str | None:
    """Why the pod's ``container`` is not running, as its status says: "CrashLoopBackOff, 14 restarts",
    "terminated: Error, exit 1"; None when it runs or its status does not say (then the exec is tried)."""
    status = next((s for s in apifields.items(obj, "status", "containerStatuses")
                   if isinstance(s, dict) and s.get("name") == container), None)
    if status is None or isinstance(apifields.dig(status, "state", "running"), dict):
        return None
    restarts = apifields.dig(status, "restartCount")
    count = f", {restarts} restart{'s' if restarts != 1 else ''}" if isinstance(restarts, int) and restarts > 0 else ""
    waiting = apifields.dig(status, "state", "waiting")
    if isinstance(waiting, dict):
        return f"{apifields.text(waiting, 'reason') or 'waiting'}{count}"
    done = apifields.dig(status, "state", "terminated")
    if isinstance(done, dict):
        code = apifields.dig(done, "exitCode")
        return f"terminated: {apifields.text(done, 'reason') or 'exited'}" + (f", exit {code}" if isinstance(code, int) else "") + count
    return None


def image_name(container: dict[str, Any]) -> str:
    """"registry.k8s.io/kube-proxy:v1.32.0" -> "kube-proxy" (the repository's last part, no tag or digest)."""
    image = apifields.text(container, "image") or ""
    return image.split("@", 1)[0].rsplit("/", 1)[-1].split(":", 1)[0]


def runs_kube_proxy(container: dict[str, Any]) -> bool:
    """kube-proxy's image, a container named so, or kube-proxy in its command (go-runner … /usr/local/bin/kube-proxy,
    a distribution's own image)."""
    words = apifields.words(container, "command") + apifields.words(container, "args")[:1]
    return (apifields.text(container, "name") == "kube-proxy" or image_name(container) == "kube-proxy"
            or any(w.rsplit("/", 1)[-1] == "kube-proxy" for w in words))


def best_pod(pods: list[ProxyPod], node: str) -> ProxyPod:
    """The Running, not-deleting kube-proxy pod of the node whose container runs; errors say why there is none."""
    if not pods:
        raise NotFound(f'no kube-proxy pod on node "{node}" (namespace {NAMESPACE}, labels '
                       f'{" or ".join(LABEL_SELECTORS)})', hint=NO_POD_HINT)
    ranked = sorted(pods, key=lambda p: (p.phase != "Running", p.not_running is not None, p.deleting, p.name))
    pod = ranked[0]
    if pod.phase != "Running":
        why = f" (container {pod.container}: {pod.not_running})" if pod.not_running and pod.container else ""
        raise CollectFailed(f"kube-proxy pod {pod.ref} on node {node} is {pod.phase}{why}: cannot exec into it",
                            hint=f"see why: kubectl describe pod -n {pod.namespace} {pod.name}")
    if pod.not_running is not None:  # (the kubelet refuses an exec into a container that does not run)
        raise CollectFailed(f"kube-proxy pod {pod.ref} on node {node}: its container {pod.container} does not run "
                            f"({pod.not_running}): cannot exec into it",
                            hint=f"why it stopped: kubectl logs -n {pod.namespace} {pod.name} -c {pod.container} --previous; "
                                 "the node's tables hold what it last wrote: `sudo kubectl svcpath SERVICE --local` "
                                 "there reads them")
    return pod


def normalise_mode(value: str, source: str) -> str:
    """kube-proxy's mode string -> one of MODES; "" means iptables on Linux."""
    mode = value.strip().strip("'\"").lower()
    if mode == "":
        return "iptables"
    if mode not in MODES:
        raise Unsupported(f'kube-proxy runs in proxy mode "{one_line(value, 40)}" ({source}): kubectl-svcpath reads '
                          f'{", ".join(MODES)} only',
                          hint="kernelspace is Windows' mode and userspace was removed in v1.26; for other "
                               "dataplanes read their own tools")
    return mode


def mode_from_config(text: str) -> str | None:
    """The ``mode`` of a KubeProxyConfiguration (YAML); None when the key is absent."""
    try:
        import yaml

        doc = yaml.safe_load(text)
    except Exception:  # noqa: BLE001 - a broken config is no answer; fall back to a plain match
        m = re.search(r"^mode:[ \t]*(.*?)[ \t]*$", text, re.M)
        return m.group(1).strip("'\"") if m else None
    if isinstance(doc, dict) and "mode" in doc:
        mode = doc["mode"]
        if isinstance(mode, (dict, list)):  # no mode kube-proxy reads (and an alias to a nested one would expand)
            return None
        return "" if mode is None else str(mode)
    return None


def node_port_addresses_from_config(text: str) -> tuple[str, ...] | None:
    """``nodePortAddresses`` of a KubeProxyConfiguration: CIDRs or ["primary"]; () = every local address; None = unreadable."""
    try:
        import yaml

        doc = yaml.safe_load(text)
    except Exception:  # noqa: BLE001 - a broken config tells nothing
        return None
    if not isinstance(doc, dict):
        return None
    value = doc.get("nodePortAddresses")
    if value is None:
        return ()
    # CIDRs or "primary", each a string: anything else is no answer (str() of a YAML alias to a nested list
    # would expand it: a few lines of aliases are billions of items)
    return tuple(value) if isinstance(value, list) and all(isinstance(v, str) for v in value) else None


def mode_from_command(argv: list[str]) -> str | None:
    """``--proxy-mode=X`` or ``--proxy-mode X`` in the container's command/args."""
    for i, arg in enumerate(argv):
        if arg.startswith("--proxy-mode="):
            return arg.split("=", 1)[1]
        if arg == "--proxy-mode" and i + 1 < len(argv):
            return argv[i + 1]
    return None


def uses_config_file(argv: list[str]) -> bool:
    return any(a == "--config" or a.startswith("--config=") for a in argv)


def commands_for(mode: str | None, families: tuple[int, ...]) -> list[tuple[list[str], bool]]:
    """The listings to run for a proxy mode: (argv, required). Optional ones may fail quietly.

    ``iptables --version`` is not among them: ``version_listing`` runs it only when the saves'
    header does not already tell kube-proxy's iptables version and backend (``writer_from_save``).
    """
    v4, v6 = 4 in families, 6 in families
    saves = [(argv, True) for argv in ([["iptables-save", "-c"]] if v4 else []) + ([["ip6tables-save", "-c"]] if v6 else [])]
    nft = ([["nft", "-j", "list", "table", "ip", "kube-proxy"]] if v4 else []) + \
          ([["nft", "-j", "list", "table", "ip6", "kube-proxy"]] if v6 else [])
    if mode is None:  # unknown: what iptables mode needs, plus kube-proxy's nftables table if there is one
        return [*saves] + [(argv, False) for argv in nft]
    listings = {
        Mode.IPTABLES: saves,
        Mode.NFTABLES: [(argv, True) for argv in nft],
        # (--stats has the counters, -Ln the weights, scheduler and persistence: a weight 0 is a terminating
        # endpoint. The save goes first: one of the two ipvsadm listings is needed, which _take_listings
        # decides once both are in, reading the kernel's own listing where the image has no ipvsadm;
        # `ipset list`, kube-proxy's sets of either family, is optional: without it, a note says what it costs)
        Mode.IPVS: [*saves, (["ipvsadm", "-Ln", "--stats", "--exact"], False), (["ipvsadm", "-Ln"], False),
                    (IPSET_LIST, False)],
    }
    return listings[Mode(mode)]


_IPVS_SETS = re.compile(r"--match-set KUBE-(?:CLUSTER-IP|LOOP-BACK|NODE-PORT-(?:TCP|UDP|SCTP|LOCAL)|EXTERNAL-IP|LOAD-BALANCER)\b")


def ipvs_mode_rules(dumps: list[RuleDump]) -> bool:
    """The saves hold IPVS mode's iptables rules: they match kube-proxy's IPVS ipsets (KUBE-CLUSTER-IP, …)."""
    return any(d.format == "iptables-save" and _IPVS_SETS.search(d.text) is not None for d in dumps)


# a rule of KUBE-SERVICES, with its counters or without (`iptables-save -c` writes "[0:0] -A KUBE-SERVICES …")
_SERVICES_RULE = re.compile(r"^(?:\[\d+:\d+\] )?-A KUBE-SERVICES ", re.M)


def saves_without_services(dumps: list[RuleDump]) -> bool:
    """Saves in which KUBE-SERVICES has no rule: no Service in iptables mode (a cut save is refused before this)."""
    saves = [d for d in dumps if d.format == "iptables-save"]
    return bool(saves) and all(_SERVICES_RULE.search(d.text) is None for d in saves)


def _ipvs_listings(kube: Kube, pod: ProxyPod, families: tuple[int, ...], done: list[list[str]], coll: Collection,
                   mode: ModeInfo) -> None:
    """The saves are IPVS mode's, and the mode was not configured or its configuration says another (a pod started
    before it changed): IPVS mode's other listings (the IPVS table, the ipsets), so that the node is read as the
    mode its rules show, not refused as iptables rules of another mode."""
    rest = [(argv, False) for argv, _ in commands_for(Mode.IPVS.value, families) if argv not in done]
    coll.proxy_mode = Mode.IPVS.value
    coll.proxy_mode_source = "the node's iptables-save (its rules match kube-proxy's IPVS ipsets)"
    _take_listings(kube, pod, rest, {tuple(argv): None for argv, _ in rest}, coll)
    said = (f'{mode.source} says proxy mode "{mode.mode}", but ' if mode.mode is not None and mode.source else "")
    coll.notes.append(f"{said}node {pod.node}'s iptables rules match kube-proxy's IPVS ipsets (KUBE-CLUSTER-IP, …): read "
                      "as IPVS mode, with the IPVS table" + (" (kube-proxy takes its mode when it starts: a pod started "
                                                            "before the configuration changed keeps its own)" if said else ""))


# IPVS mode's table where the kube-proxy image has no ipvsadm (upstream's distroless-iptables image
# stages iptables, ipset, nft and kmod, not ipvsadm): the kernel's own listing, read with cat (staged there)
PROC_IPVS = ["cat", "/proc/net/ip_vs"]
# IPVS mode's ipsets, listed as a user pastes them (modes/ipvs/ipset.py reads it): which addresses and ports
# kube-proxy's iptables rules match as Service traffic (staged in upstream's image: kube-proxy runs it itself)
IPSET_LIST = ["ipset", "list"]


def version_listing(families: tuple[int, ...]) -> list[str]:
    """``iptables --version`` (``ip6tables`` for IPv6 alone): kube-proxy's iptables and its backend."""
    return ["iptables", "--version"] if 4 in families or 6 not in families else ["ip6tables", "--version"]


def writer_from_save(dumps: list[RuleDump]) -> str | None:
    """What ``iptables --version`` prints in the pod, when the first iptables-save header there proves it.

    The pod's iptables-save and iptables are one install (the same xtables-*-multi binary, switched
    together by kube-proxy's iptables wrapper), so the header's version is the writer's. Its backend
    is proved by ``(nf_tables)`` or, from 1.8.8 on, by the missing suffix (legacy; iptables-nft 1.8.8+
    always prints it), or by ``-nft-``/``-legacy-`` in the tool's name: ``checks.parse_save_header``.
    A header of 1.8.7 or older named plain ``iptables-save`` proves no backend: None (run the exec).
    """
    from kubectl_svcpath.modes.iptables.checks import parse_save_header

    save = next((d for d in dumps if d.format == "iptables-save" and _has_text(d.text)), None)
    if save is None:
        return None
    header = next((line for line in save.text[:4096].splitlines() if line.startswith("# Generated by ")), None)
    found = parse_save_header(header) if header is not None else None
    if found is None or found.backend is None:
        return None
    tool = "ip6tables" if found.tool.startswith("ip6") else "iptables"
    return f"{tool} v{found.number} ({found.backend})"


def dump_format(argv: list[str]) -> str | None:
    if argv[0].endswith("tables-save"):
        return "iptables-save"
    if argv[0] == "nft":
        return "nft-json"
    if argv[0] == "ipvsadm" or argv == PROC_IPVS:  # (the kernel's own listing: ipvsadm's, in hex)
        return "ipvsadm"
    if argv == IPSET_LIST:
        return "ipset"
    return None


def check_output(argv: list[str], text: str, source: str) -> None:
    """A listing that stops early is an error, never half an answer."""
    fmt = dump_format(argv)
    if fmt == "iptables-save" and _has_text(text):
        last = _last_rule_line(text)
        if last is not None and last != "COMMIT":
            raise BadDump(source, "the output ends before COMMIT: it was truncated",
                          hint="run it again; if the node is slow or its tables are large, raise --request-timeout")
    elif fmt == "nft-json":
        try:
            json.loads(text)
        except ValueError:
            raise BadDump(source, "the JSON output is cut off or not JSON: it was truncated",
                          hint="run it again; if the node is slow or its tables are large, raise --request-timeout") from None


def _has_text(text: str) -> bool:
    """``bool(text.strip())`` without copying a dump of megabytes: isspace() stops at the first other character."""
    return bool(text) and not text.isspace()


def _last_rule_line(text: str) -> str | None:
    """The last line that is neither blank nor a comment, stripped; read from the end (dumps are MBs)."""
    end = len(text)
    while end > 0:
        start = text.rfind("\n", 0, end) + 1
        for line in reversed(text[start:end].splitlines()):  # as text.splitlines() would cut it
            line = line.strip()
            if line and not line.startswith("#"):
                return line
        end = start - 1
    return None


def backend_of(version_text: str) -> str | None:
    """``iptables v1.8.9 (nf_tables)`` -> "nf_tables"; ``(legacy)`` -> "legacy"."""
    m = re.search(r"\((nf_tables|legacy)\)", version_text)
    return m.group(1) if m else None


# --- I/O --------------------------------------------------------------------------------

def find_pods(kube: Kube, node: str | None = None) -> dict[str, list[ProxyPod]]:
    """kube-proxy pods by node name (one node with a field selector, or all of them)."""
    field = f"spec.nodeName={node}" if node else None
    found: dict[str, ProxyPod] = {}
    for selector in LABEL_SELECTORS:
        for obj in reads.list_pods(kube, NAMESPACE, selector, field):
            pod = pod_from_json(obj)
            found.setdefault(pod.name, pod)
        if node and found:
            break
    by_node: dict[str, list[ProxyPod]] = {}
    for pod in found.values():
        by_node.setdefault(pod.node, []).append(pod)
    return by_node


_CONFIG_UNREAD = "could not read ConfigMap"


@dataclass(slots=True)
class Config:
    """What a read of kube-proxy's configuration gave: its ``mode`` (None: not read, or no such key), where it
    was read (``source``), notes on the read, and its ``nodePortAddresses`` (None: not known)."""

    mode: str | None
    source: str | None = None
    notes: list[str] = field(default_factory=list)
    node_ports: tuple[str, ...] | None = None


def read_config(kube: Kube, name: str = CONFIGMAP, key: str = CONFIG_KEY) -> Config:
    """The KubeProxyConfiguration in key ``key`` of ConfigMap kube-system/``name``: not there, or not a string,
    is no mode; a denied read is a note (the mode is then taken from the pod's flags or the rules)."""
    try:
        cm = reads.get_configmap(kube, NAMESPACE, name)
    except NotFound:
        return Config(None)
    except Forbidden as e:  # fall back to the pod's flags
        check = f" (check: {e.hint.split(';')[0]})" if e.hint else ""
        return Config(None, notes=[f"{_CONFIG_UNREAD} {NAMESPACE}/{name} ({e.message}): the proxy mode is taken from the "
                                   f"pod's flags or detected from the rules{check}"])
    data = cm.get("data")
    text = data.get(key) if isinstance(data, dict) else None
    if not isinstance(text, str):  # (the API holds a ConfigMap's data as strings: anything else is no config)
        return Config(None)
    return Config(mode_from_config(text), f"ConfigMap {NAMESPACE}/{name} key {key}", [], node_port_addresses_from_config(text))


_CONFIG_ELSEWHERE = "kube-proxy reads --config="


def pods_config(pod: ProxyPod, default: Config, read: Any) -> Config:
    """The configuration the pod's kube-proxy reads. ``default`` is ConfigMap kube-system/kube-proxy's
    (read before the pod was known: kubeadm's, kind's); a pod whose --config comes from another ConfigMap
    (EKS: kube-proxy-config, key config) has that one read with ``read(name, key)``; one whose --config is a
    file of the node (a hostPath) has none the API holds. Where none holds it, a note says so: the mode is
    then detected from the rules, and nothing is said of how it was configured."""
    cfg = pod.config
    if cfg is None:
        return default
    if cfg.configmap is not None and cfg.key is not None:
        got = default if (cfg.configmap, cfg.key) == (CONFIGMAP, CONFIG_KEY) else read(cfg.configmap, cfg.key)
        if got.source is not None or got.notes:
            return got
        return Config(None, notes=[f"{_CONFIG_ELSEWHERE}{cfg.path}, key {cfg.key} of ConfigMap {NAMESPACE}/{cfg.configmap}, "
                                   "which the API does not have: the proxy mode is detected from the rules"])
    if cfg.elsewhere is not None:
        return Config(None, notes=[f"{_CONFIG_ELSEWHERE}{cfg.path} from {cfg.elsewhere}, a file of the node the API does "
                                   "not hold: the proxy mode is detected from the rules"])
    if default.source is not None or default.notes:  # (no volume of the pod holds it as listed: kube-proxy's own, we assume)
        return default
    return Config(None, notes=[f"{_CONFIG_ELSEWHERE}{cfg.path}, which is not ConfigMap {NAMESPACE}/{CONFIGMAP} key "
                               f"{CONFIG_KEY}: the proxy mode is detected from the rules"])


def decide_mode(config_mode: str | None, pod: ProxyPod, notes: list[str], chosen: str | None = None,
                config_source: str | None = None) -> ModeInfo:
    """--proxy-mode first (the user's word: e.g. a ConfigMap that does not say what the node runs), then
    the configuration (``config_source``, else ConfigMap kube-system/kube-proxy; when the pod reads a config
    file or sets no flag), then the pod's flag, else None."""
    if chosen:
        return ModeInfo(normalise_mode(chosen, "--proxy-mode"), "--proxy-mode", list(notes))
    flag = mode_from_command(pod.command)
    cm_source = config_source or f"ConfigMap {NAMESPACE}/{CONFIGMAP} key {CONFIG_KEY}"
    if config_mode is not None and (flag is None or uses_config_file(pod.command)):
        return ModeInfo(normalise_mode(config_mode, cm_source), cm_source, list(notes))
    if flag is not None and config_source is not None and uses_config_file(pod.command):  # (kube-proxy's options.go)
        return ModeInfo(None, None, [*notes, f"pod {pod.ref} sets --proxy-mode {one_line(flag, 40)} beside --config, which "
                                             f"kube-proxy then ignores, and {config_source} sets no mode: detected from "
                                             "the rules"])
    if flag is not None:
        source = f"pod {pod.ref} flag --proxy-mode"
        return ModeInfo(normalise_mode(flag, source), source, list(notes))
    if any(n.startswith((_CONFIG_UNREAD, _CONFIG_ELSEWHERE)) for n in notes):  # the configuration was not seen: nothing to say of it
        return ModeInfo(None, None, list(notes))
    return ModeInfo(None, None, list(notes) + ["proxy mode not configured explicitly: detected from the rules"])


def collect(kube: Kube, pod: ProxyPod, mode: ModeInfo, families: tuple[int, ...], piecewise: bool = True) -> Collection:
    """Run the mode's listings in the pod; a required one failing fails the node.

    ``piecewise``: scan an iptables-save while it arrives (one node: the wait for the exec hides
    that work). Many nodes keep the CPU busy anyway, and the scan of the whole text costs less (no
    feed thread per node): 100 lab nodes of 0.7 MB, the plugin's CPU 1.57 s against 1.73 s, so they say False.

    The first required listing goes out alone: a refused exec (RBAC, pod gone) is refused once,
    not once per listing. As soon as its upgrade is accepted, the other listings run beside it
    (one round trip to the API server instead of one per listing); their results are then taken
    in ``commands_for`` order, with the same rules as one after the other.
    """
    coll = Collection(dumps=[], node=pod.node, pod=pod.ref, proxy_mode=mode.mode, proxy_mode_source=mode.source,
                      notes=list(mode.notes))
    listings = commands_for(mode.mode, families)
    feeds = {tuple(argv): _text_feed(argv) if piecewise else None for argv, _ in listings}
    try:
        _take_listings(kube, pod, listings, feeds, coll)
    finally:  # (after a failure: the feeds' threads end without taking what is still queued)
        for feed in feeds.values():
            if feed is not None:
                feed.close(drop=True)
    run = [argv for argv, _ in listings]
    # (not the user's --proxy-mode: the rules are the node's word on kube-proxy's mode, its configuration is not)
    if mode.source != "--proxy-mode" and IPSET_LIST not in run and ipvs_mode_rules(coll.dumps):
        _ipvs_listings(kube, pod, families, run, coll, mode)
    elif mode.source != "--proxy-mode" and not any(argv[0] == "nft" for argv in run) and saves_without_services(coll.dumps):
        # (configured iptables, and no Service in the saves: kube-proxy's nftables table, if the node has one, is
        # read beside them; pipeline.detect_mode says which of the two holds the Services)
        nft = [(argv, False) for argv, _ in commands_for(Mode.NFTABLES.value, families)]
        _take_listings(kube, pod, nft, {tuple(argv): None for argv, _ in nft}, coll)
    coll.collected_at = utc_now()
    if any(d.format == "iptables-save" for d in coll.dumps):
        _writer_version(kube, pod, families, coll)
    return coll


def _take_listings(kube: Kube, pod: ProxyPod, listings: list[tuple[list[str], bool]],
                   feeds: dict[tuple[str, ...], _Feeding | None], coll: Collection) -> None:
    ipvsadm: tuple[list[str], kexec.ExecResult | SvcpathError] | None = None  # the first ipvsadm listing that failed
    for argv, required, res in _run_listings(kube, pod, listings, feeds):
        cmd = " ".join(argv)
        source = f"node {pod.node} pod {pod.ref}: {cmd}"
        if argv[0] == "ipvsadm" and (isinstance(res, CollectFailed) or (not isinstance(res, SvcpathError) and res.returncode)):
            ipvsadm = ipvsadm or (argv, res)  # (IPVS mode needs one: decided once all are in, below)
            continue
        if argv == IPSET_LIST and (isinstance(res, CollectFailed) or not isinstance(res, SvcpathError)):
            _ipset_listing(res, pod, coll)
            continue
        if isinstance(res, CollectFailed) and not required:
            continue
        if isinstance(res, SvcpathError):
            raise res
        if res.returncode != 0:
            if not required:
                continue
            raise _failed(argv, res, pod, coll.proxy_mode_source)
        check_output(argv, res.stdout, source)
        if res.stderr.strip():
            coll.notes.append(f"{source}: stderr: {one_line(res.stderr)}")
        feeding = feeds.get(tuple(argv))
        coll.dumps.append(RuleDump(text=res.stdout, source=source, format=dump_format(argv), kind="pod",
                                   feed=feeding.done(res.stdout) if feeding is not None else None))
    if ipvsadm is not None and not any(d.format == "ipvsadm" for d in coll.dumps):
        _kernel_ipvs_listing(kube, pod, *ipvsadm, coll)


def _failed(argv: list[str], res: kexec.ExecResult | SvcpathError, pod: ProxyPod, mode_source: str | None = None) -> SvcpathError:
    if isinstance(res, SvcpathError):
        return res
    first = one_line(res.stderr) or one_line(res.stdout) or "no output"
    return CollectFailed(f"`{' '.join(argv)}` failed in pod {pod.ref} on node {pod.node} (exit {res.returncode}): {first}",
                         hint=_failure_hint(argv, res.returncode, first, pod, mode_source))


def _kernel_ipvs_listing(kube: Kube, pod: ProxyPod, argv: list[str], res: kexec.ExecResult | SvcpathError,
                         coll: Collection) -> None:
    """No ipvsadm listing: where the image lacks ipvsadm, the kernel's own (cat /proc/net/ip_vs); else
    (or when that fails too) the ipvsadm failure, as the error of the node."""
    if _binary_missing(res):
        procfs = _one_listing(kube, pod, PROC_IPVS, None)
        if not isinstance(procfs, SvcpathError) and procfs.returncode == 0 and procfs.stdout.startswith(IPVS_TITLE):
            cmd = " ".join(PROC_IPVS)
            coll.notes.append(f"node {pod.node} pod {pod.ref}: the kube-proxy image has no `ipvsadm`: the IPVS "
                              f"table was read with `{cmd}`")
            coll.dumps.append(RuleDump(text=procfs.stdout, source=f"node {pod.node} pod {pod.ref}: {cmd}",
                                       format="ipvsadm", kind="pod"))
            return
        failed = _failed(argv, res, pod, coll.proxy_mode_source)
        failed.message += "; /proc/net/ip_vs could not be read there either (no IPVS table on the node?)"
        raise failed
    raise _failed(argv, res, pod, coll.proxy_mode_source)


# what a node read without kube-proxy's ipsets lacks (the report's other IPVS facts come from the listings)
IPSETS_UNREAD = ("kube-proxy's ipsets (KUBE-CLUSTER-IP, KUBE-NODE-PORT-TCP, …) were not read: which Service addresses "
                 "and ports they hold is not in the input (--trace decides their matches from the Service's addresses "
                 "and the IPVS virtual servers)")


def _ipset_listing(res: kexec.ExecResult | CollectFailed, pod: ProxyPod, coll: Collection) -> None:
    """`ipset list` in the pod: its sets as a dump; where it cannot run or fails, a note saying what that costs,
    never the node's error (IPVS mode is read without it, as a paste without one is)."""
    who = f"node {pod.node} pod {pod.ref}"
    if isinstance(res, CollectFailed) or res.returncode:
        why = ("the kube-proxy image has no `ipset`" if _binary_missing(res) else
               f"`ipset list` failed: {res.message}" if isinstance(res, CollectFailed) else
               f"`ipset list` failed (exit {res.returncode}): {one_line(res.stderr) or one_line(res.stdout) or 'no output'}")
        coll.notes.append(f"{who}: {why}: {IPSETS_UNREAD}")
        return
    if not _has_text(res.stdout):  # (the whole listing, and no set in it: kube-proxy's are not on the node)
        coll.notes.append(f"{who}: `ipset list` lists no set: kube-proxy's IPVS sets (KUBE-CLUSTER-IP, …) are not "
                          "on this node; kube-proxy creates them at start in IPVS mode (see its log)")
        return
    if res.stderr.strip():
        coll.notes.append(f"{who}: ipset list: stderr: {one_line(res.stderr)}")
    coll.dumps.append(RuleDump(text=res.stdout, source=f"{who}: ipset list", format="ipset", kind="pod"))


def _binary_missing(res: kexec.ExecResult | SvcpathError) -> bool:
    """The command could not run because the image lacks it (refused by the runtime, or 126/127 from a wrapper)."""
    if isinstance(res, SvcpathError):
        return isinstance(res, CollectFailed) and res.missing_binary
    return res.returncode in (126, 127)


def _writer_version(kube: Kube, pod: ProxyPod, families: tuple[int, ...], coll: Collection) -> None:
    """kube-proxy's iptables version and backend: from the save's header when it proves both (one
    exec less per node), else from ``iptables --version`` (optional: a failure leaves them unknown)."""
    proved = writer_from_save(coll.dumps)
    if proved is not None:
        coll.writer_version, coll.backend = proved, backend_of(proved)
        return
    res = _one_listing(kube, pod, version_listing(families), None)
    if isinstance(res, SvcpathError) and not isinstance(res, CollectFailed):
        raise res
    if not isinstance(res, SvcpathError) and res.returncode == 0:
        coll.writer_version = one_line(res.stdout) or None
        coll.backend = backend_of(res.stdout)


_Listing = tuple[list[str], bool, "kexec.ExecResult | SvcpathError"]


def _text_feed(argv: list[str]) -> _Feeding | None:
    """A reader that takes the listing's output piece by piece while the command writes it (iptables-save:
    its structure pass), so that only the tail is left to read when the exec ends; None for the others."""
    if dump_format(argv) != "iptables-save":
        return None
    from kubectl_svcpath.modes.iptables.save_feed import SaveFeed

    return _Feeding(SaveFeed())


class _Feeding:
    """A feed (``feed(piece)``, ``done(text)``) fed in a thread of its own: the exec's reader only queues
    each piece, so reading the stream never waits for the feed (a stalled reader would stall the command
    in the pod: the API server stops reading its output when the connection's buffers are full). Big
    pieces are fed in parts of at most ``PART`` characters (cut after a newline), so that the reader
    gets the interpreter back between them."""

    PART = 256 * 1024

    def __init__(self, feed: Any) -> None:
        import queue

        self.feed = feed
        self.dropped = False
        self.pieces: queue.SimpleQueue[str | None] = queue.SimpleQueue()
        self.thread = threading.Thread(target=self._run, name="svcpath-feed", daemon=True)
        self.thread.start()

    def put(self, piece: str) -> None:
        self.pieces.put(piece)

    def _run(self) -> None:
        while (piece := self.pieces.get()) is not None:
            start = 0
            while len(piece) - start > self.PART and not self.dropped:
                end = piece.rfind("\n", start, start + self.PART) + 1
                if end <= start:  # a line longer than a part: the feed takes the rest at once
                    break
                self.feed.feed(piece[start:end])
                start = end
            if not self.dropped:
                self.feed.feed(piece[start:] if start else piece)

    def close(self, drop: bool = False) -> None:
        """No more pieces; returns once the feed has taken those queued, or at once with ``drop``
        (the read failed or was abandoned: nobody will use the feed). Idempotent."""
        self.dropped = self.dropped or drop
        if self.thread.is_alive():
            self.pieces.put(None)
            self.thread.join()

    def done(self, text: str) -> Any:
        """The feed, told the whole text, once it has taken every piece."""
        self.close()
        self.feed.done(text)
        return self.feed


def _run_listings(kube: Kube, pod: ProxyPod, listings: list[tuple[list[str], bool]],
                  feeds: dict[tuple[str, ...], _Feeding | None]) -> Iterator[_Listing]:
    """(argv, required, result or error) in the order given; the first required listing opens the way.
    ``feeds[tuple(argv)]`` (or None) is handed that listing's output as it arrives.

    Stops at the first error of a required listing (the caller raises it): the others still
    running are told to stop and are not waited for beyond that.
    """
    import concurrent.futures as futures

    probe = next((i for i, (_, required) in enumerate(listings) if required), None)
    if probe is None or len(listings) == 1:
        for argv, required in listings:
            yield argv, required, _one_listing(kube, pod, argv, None, feeds.get(tuple(argv)))
        return
    stop = threading.Event()
    try:
        first: kexec.Running | SvcpathError = kexec.start(kube, pod.name, pod.namespace, pod.container, listings[probe][0])
    except SvcpathError as e:
        first = e
    if isinstance(first, SvcpathError):  # refused: nothing else is tried
        yield listings[probe][0], True, first
        return
    with futures.ThreadPoolExecutor(max_workers=len(listings) - 1, thread_name_prefix="svcpath-exec") as pool:
        others = {i: pool.submit(_one_listing, kube, pod, argv, stop, feeds.get(tuple(argv)))
                  for i, (argv, _) in enumerate(listings) if i != probe}
        try:
            probe_result = _finish(first, feeds.get(tuple(listings[probe][0])))
            for i, (argv, required) in enumerate(listings):
                res = probe_result if i == probe else others[i].result()
                yield argv, required, res
                if required and isinstance(res, SvcpathError):
                    return
        finally:
            stop.set()


def _one_listing(kube: Kube, pod: ProxyPod, argv: list[str], stop: threading.Event | None,
                 feed: _Feeding | None = None) -> kexec.ExecResult | SvcpathError:
    try:
        return kexec.start(kube, pod.name, pod.namespace, pod.container, argv).finish(stop, _on_stdout(feed))
    except SvcpathError as e:
        return e


def _finish(running: kexec.Running, feed: _Feeding | None = None) -> kexec.ExecResult | SvcpathError:
    try:
        return running.finish(on_stdout=_on_stdout(feed))
    except SvcpathError as e:
        return e


def _on_stdout(feed: _Feeding | None) -> Any:
    return None if feed is None else feed.put


def utc_now() -> str:
    from datetime import datetime, timezone

    return datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _failure_hint(argv: list[str], rc: int, first: str, pod: ProxyPod, mode_source: str | None = None) -> str:
    low = first.lower()
    said = _mode_said(mode_source)
    if argv[0] == "nft" and ("no such file" in low or "does not exist" in low):
        return f"kube-proxy's nftables table is missing: is kube-proxy on this node in nftables mode{said}? Try --proxy-mode iptables"
    if argv[0] == "ipvsadm" and ("ip_vs" in low or "protocol not available" in low):
        return f"the node's kernel has no IPVS (ip_vs): is kube-proxy on this node really in IPVS mode{said}? Try --proxy-mode iptables"
    if rc in (126, 127):  # a shell or wrapper could not find or run it
        return (f"the kube-proxy image may lack `{argv[0]}`: run `{' '.join(argv)}` on the node and pass it with "
                "--rules-file, or run `kubectl svcpath SERVICE --local` there")
    if "permission" in low or "not permitted" in low:
        return "the kube-proxy container lacks the privileges to list the tables; run on the node with --local"
    pick = f" -c {pod.container}" if pod.container else ""
    return (f"all it prints: kubectl -n {pod.namespace} exec {pod.name}{pick} -- {' '.join(argv)}; on the node, "
            "`sudo kubectl svcpath SERVICE --local` reads the tables without the pod")


def _mode_said(source: str | None) -> str:
    """Who said the mode whose listing failed, for the hint: --proxy-mode, kube-proxy's configuration, its pod's flag."""
    return f", as {source} says" if source else ""
