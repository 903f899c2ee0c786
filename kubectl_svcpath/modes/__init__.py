"""Proxy modes: one package per kube-proxy mode (iptables, nftables, ipvs), each with model, parse, correlate, infer and checks."""
