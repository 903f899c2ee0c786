"""The SERVICE argument written as kubectl writes another kind (deploy/web, node/cp01) or as a Service's DNS name
(web.shop): the one error line, and a hint with the command that gets to the Service (or to what was meant).
Loaded only on that refusal. A head no namespace can be named (Deployment/web) is refused before anything is
read (options.split_service); one that can (deploy/web, ingress/web: microk8s's ingress controller runs in
namespace "ingress", and --all prints NAMESPACE/NAME) is read as NAMESPACE/NAME first, and refused only when
no such Service is found there."""

from __future__ import annotations

import shlex

from kubectl_svcpath.errors import Forbidden, SvcpathError, UsageError

# kubectl's words for a kind -> the group of hint it gets
_GROUPS = {
    "workload": "pods pod po deployments deployment deploy replicasets replicaset rs statefulsets statefulset sts "
                "daemonsets daemonset ds jobs job cronjobs cronjob cj replicationcontrollers replicationcontroller rc",
    "node": "nodes node no",
    "namespace": "namespaces namespace ns",
    "endpoints": "endpoints ep",
    "endpointslice": "endpointslices endpointslice",
    "ingress": "ingresses ingress ing",
}
_GROUP_OF = {word: group for group, words in _GROUPS.items() for word in words.split()}


def is_kind(head: str) -> bool:
    """``head`` is kubectl's word (plural, singular, short; any case) for a kind svcpath names in its hints."""
    return head.lower() in _GROUP_OF


def kind_not_namespace(service: str, namespace: str | None, offline: list[str] | None,
                       error: SvcpathError) -> UsageError | None:
    """``service`` read as NAMESPACE/NAME was not found there, or that namespace may not be read (``error``: a
    NotFound or Forbidden about that Service): when its head is kubectl's word for a kind (deploy/web), the
    refusal that says so, with what was looked for; None for any other head or error."""
    head, slash, name = service.partition("/")
    if not slash or not is_kind(head) or error.subject != "services":
        return None
    refused = not_a_service(head, name, namespace, offline)
    if isinstance(error, Forbidden):
        refused.message += f' (and reading Service "{name}" in namespace "{head}" is forbidden)'
    else:
        refused.message += f' (and {"the input holds" if offline else "the API has"} no Service "{name}" in namespace "{head}")'
    return refused


def not_a_service(head: str, name: str, namespace: str | None, offline: list[str] | None) -> UsageError:
    """``head/name`` names another kind than a Service: say so, and how to reach its Service."""
    kind = head.lower().partition(".")[0]
    group = _GROUP_OF.get(kind, "other")
    ns = f" -n {shlex.quote(namespace)}" if namespace else ""
    src = f" {shlex.join(offline)}" if offline else ""
    error = UsageError(f"svcpath takes a Service, not {head}/{name}")
    if group == "node":
        error.hint = f"read node {name}'s rules for a Service: kubectl svcpath SERVICE{ns} --node {name}{src}"
    elif group == "namespace":
        error.hint = f"the Services of namespace {name}: kubectl svcpath --all -n {name}{src}, or one: kubectl svcpath SERVICE -n {name}{src}"
    elif group == "endpoints":  # an Endpoints object bears its Service's name
        error.hint = f"Endpoints are named after their Service: kubectl svcpath {name}{ns}{src}"
    elif offline:  # no API to ask which Service fronts it: the input's own list
        error.hint = f"--all lists the Services in the input: kubectl svcpath --all{src}"
    elif group == "endpointslice":
        error.hint = (f"its Service is its label kubernetes.io/service-name: kubectl get endpointslice {name}{ns} "
                      f"-L kubernetes.io/service-name; then kubectl svcpath SERVICE{ns}")
    elif group == "ingress":
        error.hint = f"its backends are Services: kubectl describe ingress {name}{ns}; then kubectl svcpath SERVICE{ns}"
    elif group == "other":  # a kind svcpath does not know (VirtualService/web), or a namespace miswritten (Shop/web)
        error.hint = (f"name it as NAME, svc/NAME or NAMESPACE/NAME (a namespace is lowercase, without dots); "
                      f"kubectl get svc{ns} lists them")
    else:  # a workload: Services select its pods by label
        error.hint = (f"a Service fronts the pods its SELECTOR matches: kubectl get svc{ns} -o wide, kubectl get pods{ns} "
                      f"--show-labels; then kubectl svcpath SERVICE{ns}")
    return error


def dns_name(name: str, offline: list[str] | None) -> UsageError:
    """``web.shop`` (or web.shop.svc.cluster.local): a Service's DNS name, which kubectl does not take either."""
    service, namespace = name.split(".")[:2]
    src = f" {shlex.join(offline)}" if offline else ""
    return UsageError(f'a Service name has no dots: "{name}" reads as a DNS name',
                      hint=f"Service {service} in namespace {namespace}: kubectl svcpath {service} -n {namespace}{src}")
