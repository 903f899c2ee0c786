# kubectl-svcpath — run `make` for the list of targets.
# A fresh Debian machine needs nothing but python3 and root (for the netfilter lab).
PYTHON ?= python3
VENV   ?= .venv
PY      = $(VENV)/bin/python
PIP     = $(VENV)/bin/pip
APT_PACKAGES = iptables nftables iproute2 ipvsadm conntrack kmod ca-certificates openssl

.DEFAULT_GOAL := help
.PHONY: help setup system-deps venv demo test test-unit test-lab lint typecheck bench clean

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

test: setup lint typecheck  ## lint, type check, then all tests, including the root-only netfilter lab
	$(VENV)/bin/pytest -q -rs

lint: venv  ## ruff on the package, tests, bench and packaging (rules in pyproject.toml)
	$(VENV)/bin/ruff check kubectl_svcpath tests bench packaging

typecheck: venv  ## mypy on the package (settings in pyproject.toml)
	$(VENV)/bin/mypy

test-unit: venv  ## the tests that need neither root nor network namespaces
	$(VENV)/bin/pytest -q -m "not lab"

bench: venv  ## benchmarks (figures go in README.md)
	$(PY) bench/run_all.py

clean:  ## remove the virtualenv and build output
	rm -rf $(VENV) build dist *.egg-info

# --- packaging (issue 6): krew archive, wheel/sdist, manifest check; see docs/install.md ---------
KREW_ROOT_LOCAL ?= build/krew
.PHONY: release-deps dist krew-archive check-manifest krew-local bench-startup

$(VENV)/.release-installed: $(VENV)/.installed pyproject.toml
	$(PIP) install -q -e '.[release]'
	touch $@

release-deps: $(VENV)/.release-installed  ## PyInstaller and build, for the release artefacts

# the packaging tests build the krew archive with PyInstaller
test: release-deps

dist: release-deps  ## wheel + sdist into dist/ (what pip install / pipx install get)
	$(PY) -m build --outdir dist .

krew-archive: release-deps  ## dist/kubectl-svcpath_v<ver>_<os>_<arch>.tar.gz (PyInstaller onedir) + sha256 into krew-manifest.yaml
	$(PY) packaging/build_release.py

check-manifest: venv  ## krew-manifest.yaml passes krew's rules (and installs, if the archive is in dist/)
	$(PY) packaging/check_krew_manifest.py krew-manifest.yaml $$(for a in dist/kubectl-svcpath_v*.tar.gz; do [ -f "$$a" ] && printf -- '--archive %s ' "$$a"; done)

krew-local: krew-archive  ## install the archive like `kubectl krew install --archive` into $(KREW_ROOT_LOCAL)
	$(PY) packaging/krew_install.py krew-manifest.yaml dist/kubectl-svcpath_v$$($(PY) -c 'import kubectl_svcpath as k; print(k.__version__)')_$$(uname -s | tr A-Z a-z)_$$(uname -m | sed 's/x86_64/amd64/;s/aarch64/arm64/').tar.gz $(KREW_ROOT_LOCAL)

bench-startup: venv  ## start-up times of --help, --example, completion and the krew archive
	$(PY) bench/bench_startup.py
