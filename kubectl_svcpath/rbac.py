"""The minimal RBAC the plugin needs (``--print-rbac``): exactly the reads kube/reads.py makes
and the exec kube/exec.py makes, nothing more.

pods/exec gets both verbs: the client execs over a WebSocket, an HTTP GET that API servers
before v1.35 authorise as ``get``; from v1.35 (KEP-4006, AuthorizePodWebsocketUpgradeCreatePermission)
they also require ``create`` (kubernetes/kubernetes#134577). Without ``get`` older clusters answer 403.
"""

from __future__ import annotations

RBAC_YAML = """\
# Minimal RBAC for kubectl-svcpath (kubectl svcpath --print-rbac).
# Bind it to the user or group that runs the plugin, e.g.:
#   kubectl create clusterrolebinding kubectl-svcpath \\
#       --clusterrole=kubectl-svcpath --user=USER
#   kubectl create rolebinding kubectl-svcpath -n kube-system \\
#       --role=kubectl-svcpath --user=USER
# Everything is read-only except pods/exec, which only ever runs fixed listings
# (iptables-save -c, iptables --version, nft -j list table ... kube-proxy,
# ipvsadm -Ln, cat /proc/net/ip_vs, ipset list) in kube-proxy pods.
# --trace pod/NAME also reads that one pod (get pods in its namespace), which
# this role does not grant: add it, or trace from the pod's address instead
# (--trace 10.244.1.5).
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: kubectl-svcpath
rules:
- apiGroups: [""]
  resources: ["services"]
  # get: one Service; list: the audit (--all, in a namespace or with -A in all
  # of them), and where a Service not found is (by name, in all namespaces)
  verbs: ["get", "list"]
- apiGroups: ["discovery.k8s.io"]
  resources: ["endpointslices"]
  verbs: ["list"]
- apiGroups: [""]
  resources: ["nodes"]
  # get: the node read (its zone label decides which topology hints kube-proxy
  # uses); list: --all-nodes, --nodes, --sample, and a node to read for a
  # Service without a ready endpoint
  verbs: ["get", "list"]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata:
  name: kubectl-svcpath
  namespace: kube-system
rules:
- apiGroups: [""]
  resources: ["pods"]
  verbs: ["list"]
- apiGroups: [""]
  resources: ["configmaps"]
  # kube-proxy's configuration: kubeadm's kube-proxy, EKS's kube-proxy-config
  # (another ConfigMap its pods mount is read too, when granted)
  resourceNames: ["kube-proxy", "kube-proxy-config"]
  verbs: ["get"]
- apiGroups: [""]
  resources: ["pods/exec"]
  # create: v1.35+ API servers and SPDY; get: the WebSocket upgrade on older
  # API servers
  verbs: ["create", "get"]
"""


def rbac_yaml() -> str:
    """The ClusterRole + kube-system Role, as YAML ready for ``kubectl apply -f -`` (read in an 80-column
    terminal too: no line is longer)."""
    return RBAC_YAML
