"""Rule collection edges: each returns a ``dump.Collection`` for the pure core.

- ``kube_proxy_pod``: a node's kube-proxy pod, through the API server (pods/exec), read-only;
- ``local``: this machine's own tables (``--local``);
- ``files``: dumps someone collected (``--rules-file``, ``--example``).
"""
