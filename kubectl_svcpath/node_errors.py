"""Several nodes that could not be read, as stderr lines: one ``error:`` line per way of failing, not per node.

--all-nodes on 100 nodes without leave to exec printed 100 error lines and 100 equal hints. Nodes whose errors
are the same once their own node and pod names are set aside are one line, the first node's error with the
others named after it, and one hint. Errors that differ in any other word stay apart.
"""

from __future__ import annotations

import re

from kubectl_svcpath.errors import SvcpathError
from kubectl_svcpath.wording import listed

# the pod names an error names (pod "kube-proxy-x", pods "x", kube-system/x, exec x -c, logs -n kube-system x):
# per node, not per cause
_POD = re.compile(r'(?<=pod ")[^"]+|(?<=pods ")[^"]+|(?<=kube-system/)[^\s"):;,]+|(?<=exec )[^\s"]+'
                  r'|(?<=-n kube-system )(?!-)[^\s"):;,]+')


def error_lines(errors: list[tuple[str, SvcpathError]]) -> list[str]:
    """``error: node N: …`` (and ``hint: …``) lines, unescaped; nodes failing alike share theirs, in the order
    of their first node."""
    groups: dict[tuple[int, str, str], list[tuple[str, SvcpathError]]] = {}
    for node, err in errors:
        groups.setdefault(_alike(node, err), []).append((node, err))
    lines = []
    for group in groups.values():
        node, err = group[0]
        prefix = "" if names_node(err.message, node) else f"node {node}: "
        others = [n for n, _ in group[1:]]
        alike = f" (and alike on {'node' if len(others) == 1 else 'nodes'} {listed(others, 5)})" if others else ""
        lines.append(f"error: {prefix}{err.message}{alike}")
        if err.hint:
            lines.append(f"hint: {err.hint}")
    return lines


def names_node(message: str, node: str) -> bool:
    """Whether an error line already says which node it is about (no "node N: " before it, then): 'node "w2"',
    'node w2: …', '… failed in pod P on node w2 (exit 1)'."""
    return re.search(rf'\bnode (?:"{re.escape(node)}"|{re.escape(node)}(?![\w.-]))', message) is not None


# how often a crash-looping container restarted: per pod, not per cause
_RESTARTS = re.compile(r"\b\d+ restarts?\b")


def _alike(node: str, err: SvcpathError) -> tuple[int, str, str]:
    def mask(text: str) -> str:
        return _RESTARTS.sub("\0restarts", _POD.sub("\0pod", text.replace(node, "\0node")))

    return int(err.exit_code), mask(err.message), mask(err.hint or "")
