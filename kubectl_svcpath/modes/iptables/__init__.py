"""iptables mode (legacy and nft backends): iptables-save / iptables -L parsing, correlation by kube-proxy chain names, dump-only inference, backend checks."""
