"""A strict fake kube-apiserver (stdlib HTTPS + pods/exec over WebSocket) for the live tests; see server.py."""
