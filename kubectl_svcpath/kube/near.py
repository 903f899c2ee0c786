"""What to ask for instead, when the API has no Service (or node) of the name typed: the hint under
"not found", from what the API itself lists, as the offline hint names what a dump holds (held.py).

Only on the failure path, each lookup one more read the printed RBAC already grants (list services,
list nodes); a lookup that fails for any reason leaves the plain hint (``kubectl get …``).
"""

from __future__ import annotations

from typing import Any

from kubectl_svcpath.errors import NotFound, SvcpathError
from kubectl_svcpath.kube.client import Kube


def service_not_found(kube: Kube, namespace: str, name: str, err: NotFound) -> NotFound:
    """``err`` (GET service NAMESPACE/NAME answered 404) with a hint naming what to run instead: the
    namespaces that hold a Service of that very name (-n was wrong, or missing), else the close names
    in this namespace (a typo); always the ``kubectl get services`` that lists them."""
    from kubectl_svcpath.kube import reads
    from kubectl_svcpath.wording import listed

    get = f"kubectl get services -n {namespace}"
    try:
        elsewhere = sorted({_ns(s) for s in reads.services_named(kube, name)} - {namespace})
    except SvcpathError:
        elsewhere = []
    if elsewhere:
        if len(elsewhere) == 1:
            hint = f'a Service "{name}" is in namespace {elsewhere[0]}: kubectl svcpath {name} -n {elsewhere[0]}'
        else:
            hint = (f'a Service "{name}" is in namespaces {listed(elsewhere)}: kubectl svcpath {name} -n NAMESPACE '
                    f"(kubectl get services -A --field-selector metadata.name={name} lists them)")
        return NotFound(err.message, hint=hint, subject=err.subject)
    from kubectl_svcpath.options import is_service_kind

    if is_service_kind(name):  # `kubectl svcpath svc`, as `kubectl get svc` is typed: the kind, not a name
        return NotFound(err.message, hint=f'"{name}" is kubectl\'s word for Services: name one, kubectl svcpath svc/NAME '
                                          f"({get} lists them)", subject=err.subject)
    try:
        names = [(s.get("metadata") or {}).get("name") or "" for s in reads.list_services(kube, namespace)]
    except SvcpathError:
        names = []
    close = _close(name, names)
    if close:
        return NotFound(err.message, hint=f"did you mean {_either(close)}? ({get} lists them all)", subject=err.subject)
    return err


def node_not_found(node: str, names: list[str]) -> NotFound:
    """--node NAME of no node: the closest node names (a short name for an FQDN, a typo) and the command."""
    close = _close(node, names)
    hint = f"did you mean {_either(close)}? (kubectl get nodes lists them all)" if close else "list the nodes with: kubectl get nodes"
    return NotFound(f'node "{node}" not found', hint=hint)


def _close(wanted: str, names: list[str]) -> list[str]:
    """The names close to ``wanted`` (difflib's cutoff, as the offline hint's), the closest first; a name
    whose first label is ``wanted``'s (node "cp01" for "cp01.example.com", or the reverse; any case) first."""
    from kubectl_svcpath.held import close_only

    names = [n for n in names if n]
    head = wanted.split(".", 1)[0].lower()  # (DNS names: "CP01" is node cp01)
    near = sorted(n for n in names if n.split(".", 1)[0].lower() == head)
    near += [n for n in close_only(wanted.lower(), names) if n not in near]
    return near[:3]


def _either(names: list[str]) -> str:
    """"a", "a or b", "a, b or c"."""
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + f" or {names[-1]}"


def _ns(obj: dict[str, Any]) -> str:
    return str((obj.get("metadata") or {}).get("namespace") or "")
