# kubectl-svcpath — run `make` for the list of targets.
# A fresh Debian machine needs nothing but python3 and root (for the netfilter lab).
PYTHON ?= python3
VENV   ?= .venv
PY      = $(VENV)/bin/python
PIP     = $(VENV)/bin/pip
APT_PACKAGES = iptables nftables iproute2 ipvsadm conntrack kmod ca-certificates openssl

.DEFAULT_GOAL := help
.PHONY: help setup system-deps venv demo test test-unit test-lab bench clean

help:  ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed 's/:.*## /\t/' | expand -t 18

system-deps:  ## Debian packages the lab tests use (iptables, nftables, iproute2, ipvsadm, kubectl)
	@missing=""; for c in iptables-save:iptables nft:nftables ip:iproute2 ipvsadm:ipvsadm conntrack:conntrack modprobe:kmod openssl:openssl; do \
	  command -v $${c%%:*} >/dev/null 2>&1 || missing="$$missing $${c##*:}"; done; \
	command -v kubectl >/dev/null 2>&1 || missing="$$missing kubernetes-client"; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing >/dev/null; \
	fi

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PIP) install -q --upgrade pip
	$(PIP) install -q -e '.[test]'
	touch $@

venv: $(VENV)/.installed  ## the virtualenv with the plugin installed in editable mode

setup: system-deps venv  ## everything: Debian packages and the virtualenv

demo: venv  ## run the plugin on the bundled hello-service example (no cluster needed)
	$(VENV)/bin/kubectl-svcpath --example

test: setup  ## all tests, including the root-only netfilter lab
	$(VENV)/bin/pytest -q -rs

test-unit: venv  ## the tests that need neither root nor network namespaces
	$(VENV)/bin/pytest -q -m "not lab"

bench: venv  ## benchmarks (figures go in README.md)
	$(PY) bench/run_all.py

clean:  ## remove the virtualenv and build output
	rm -rf $(VENV) build dist *.egg-info
