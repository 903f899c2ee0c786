"""kubectl-svcpath: where does a packet sent to this Service go, on this node, right now?"""

__version__ = "0.1.0"
