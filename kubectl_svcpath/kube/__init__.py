"""The API-server edge: kubeconfig and client (client.py), GET/LIST reads (reads.py), pods/exec (exec.py),
both sent through the official client's request path without its generated classes (transport.py).

The only package that imports the ``kubernetes`` client, and only inside functions, so offline
runs and ``--help`` never load it.
"""
