"""IPVS mode: ipvsadm parsing, correlation of virtual and real servers, checks."""
