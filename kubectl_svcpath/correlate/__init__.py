"""Correlation: from a Service and a node's rules to the path of each service port."""
