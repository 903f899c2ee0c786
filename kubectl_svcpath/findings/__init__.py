"""Findings: what each check says about a Service's correlated paths, in any proxy mode.

``model`` (Finding, Severity) and ``registry`` (every code); the checks: ``expected`` (the rules against what
kube-proxy should program here), ``generic``, ``knowledge`` (what the input does not show), ``backends`` (the
iptables backends), ``drift`` (across nodes). A mode's own checks are in ``modes/<mode>/checks.py``."""
