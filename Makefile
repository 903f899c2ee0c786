# kubectl-svcpath — run `make` for the list of targets.
# A fresh Debian machine needs nothing but python3 (python3-venv for `make demo`) and root (for the netfilter lab).
PYTHON ?= python3
VENV   ?= .venv
PY      = $(VENV)/bin/python
PIP     = $(VENV)/bin/pip
APT_PACKAGES = iptables nftables iproute2 ipvsadm ipset conntrack kmod ca-certificates openssl tmux

.DEFAULT_GOAL := help
.PHONY: help setup system-deps venv demo test test-unit test-lab lint typecheck bench clean fuzz fuzz-onepass fuzz-cuts

help:  ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed 's/:.*## /\t/' | expand -t 18

system-deps:  ## Debian packages the tests use (iptables, nftables, iproute2, ipvsadm, ipset, kubectl; gcc for python-iptables)
	@missing=""; for c in iptables-save:iptables nft:nftables ip:iproute2 ipvsadm:ipvsadm ipset:ipset conntrack:conntrack modprobe:kmod openssl:openssl gcc:gcc readelf:binutils tmux:tmux; do \
	  command -v $${c%%:*} >/dev/null 2>&1 || missing="$$missing $${c##*:}"; done; \
	command -v kubectl >/dev/null 2>&1 || missing="$$missing kubernetes-client"; \
	$(PYTHON) -c 'import ensurepip' >/dev/null 2>&1 || missing="$$missing python3-venv"; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing >/dev/null; \
	fi

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PIP) install -q --upgrade pip
	$(PIP) install -q -e '.[test,local]'
	touch $@

venv: $(VENV)/.installed  ## the virtualenv with the plugin installed in editable mode

setup: system-deps venv  ## everything: Debian packages and the virtualenv

demo: venv  ## run the plugin on the bundled hello-service example (no cluster needed)
	$(VENV)/bin/kubectl-svcpath --example

test: setup lint typecheck test-min  ## lint, type check, all tests (with the root-only netfilter lab), unit tests on the minimum versions
	$(VENV)/bin/pytest -q -rs

lint: venv  ## ruff on the package, tests, bench and packaging (rules in pyproject.toml)
	$(VENV)/bin/ruff check kubectl_svcpath tests bench packaging

typecheck: venv  ## mypy on the package (settings in pyproject.toml)
	$(VENV)/bin/mypy

test-unit: venv  ## the tests that need neither root nor network namespaces
	$(VENV)/bin/pytest -q -m "not lab"

SEED ?= 1
CASES ?= 2000
JOBS ?= $(shell nproc 2>/dev/null || echo 2)
fuzz: venv  ## hostile input campaign: CASES cases from SEED on JOBS workers (make fuzz SEED=2 JOBS=1); failing inputs kept in build/fuzz-failures/
	nice $(PY) -m tests.fuzz --seed $(SEED) --cases $(CASES) --jobs $(JOBS) --json build/fuzz-seed-$(SEED).json

fuzz-cuts: venv  ## real pastes cut at random lines: every absence a report claims without its evidence in the cut (tests/fuzz/cuts.py)
	nice $(PY) -m tests.fuzz.cuts --seed $(SEED) --cases $(CASES)

fuzz-onepass: venv  ## the one-pass --all table against the full analysis on CASES mutated dumps of SEED (tests/fuzz/onepass.py); differing dumps kept in build/onepass-failures/
	nice $(PY) -m tests.fuzz.onepass --seed $(SEED) --cases $(CASES)

bench: venv  ## benchmarks (figures go in README.md)
	$(PY) bench/run_all.py

clean:  ## remove the virtualenv and build output
	rm -rf $(VENV) build dist *.egg-info

# --- lower bounds: the unit tests on the oldest declared versions (constraints/minimum.txt) ---------
# On the oldest supported Python when the machine has it (pyenv's 3.10 here), else $(PYTHON).
PYTHON_MIN ?= $(firstword $(wildcard $(HOME)/.pyenv/versions/3.10*/bin/python3.10) $(shell command -v python3.10 2>/dev/null) $(PYTHON))
VENV_MIN   ?= .venv-min
.PHONY: venv-min test-min

$(VENV_MIN)/.installed: pyproject.toml constraints/minimum.txt
	rm -rf $(VENV_MIN)
	$(PYTHON_MIN) -m venv $(VENV_MIN)
	$(VENV_MIN)/bin/pip install -q --upgrade pip
	$(VENV_MIN)/bin/pip install -q -c constraints/minimum.txt -e '.[test,local]'
	touch $@

venv-min: $(VENV_MIN)/.installed  ## a virtualenv with the oldest declared versions of every dependency

test-min: venv-min  ## the unit and live tests on the minimum versions (corpus, golden, packaging and lab: the main venv only)
	$(VENV_MIN)/bin/python -c 'import sys, typer, kubernetes, yaml, tabulate; print("minimum versions: Python", sys.version.split()[0], "typer", typer.__version__, "kubernetes", kubernetes.__version__, "PyYAML", yaml.__version__, "tabulate", tabulate.__version__)'
	$(VENV_MIN)/bin/pytest -q -m "not lab and not fuzz and not packaging" -p no:cacheprovider tests/unit tests/live

# --- packaging (issue 12): krew archives for every platform, wheel/sdist, manifest check; see docs/install.md
KREW_ROOT_LOCAL ?= build/krew-root
QEMU_ROOT       ?= build/arm64-root
.PHONY: krew-deps dist krew-lock krew-archive check-manifest krew-local krew-repro krew-qemu bench-startup

krew-deps:  ## Debian packages the krew archives need to build and check (gcc for both Linux arches, readelf)
	@missing=""; for c in gcc:gcc aarch64-linux-gnu-gcc:gcc-aarch64-linux-gnu readelf:binutils; do \
	  command -v $${c%%:*} >/dev/null 2>&1 || missing="$$missing $${c##*:}"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing >/dev/null; \
	fi

# the packaging tests build the linux/amd64 and linux/arm64 archives
test: krew-deps

dist: venv  ## wheel + sdist into dist/ (what pip install / pipx install get)
	$(PY) -m build --outdir dist .

krew-lock: venv  ## re-resolve packaging/krew-requirements.in for every platform and Python into packaging/krew-lock.txt
	$(PY) packaging/build_krew.py lock

krew-archive: venv krew-deps  ## dist/kubectl-svcpath_v<ver>_<os>_<arch>.tar.gz for linux+darwin amd64+arm64, sha256s into krew-manifest.yaml
	$(PY) packaging/build_krew.py build

check-manifest: venv krew-deps  ## krew-manifest.yaml passes krew's rules; every archive in dist/ installs and carries only its platform's wheels
	$(PY) packaging/check_krew_manifest.py krew-manifest.yaml $$(for a in dist/kubectl-svcpath_v*.tar.gz; do [ -f "$$a" ] && printf -- '--archive %s ' "$$a"; done)

krew-local: krew-archive  ## install this machine's archive like `kubectl krew install --archive` into $(KREW_ROOT_LOCAL)
	$(PY) packaging/krew_install.py krew-manifest.yaml dist/kubectl-svcpath_v$$($(PY) -c 'import kubectl_svcpath as k; print(k.__version__)')_$$(uname -s | tr A-Z a-z)_$$(uname -m | sed 's/x86_64/amd64/;s/aarch64/arm64/').tar.gz $(KREW_ROOT_LOCAL)

krew-repro: venv krew-deps  ## slow proof: every archive built twice, the second time from a fresh venv and empty work dir, same sha256
	$(PY) packaging/repro.py

krew-qemu: venv krew-deps  ## slow: the linux/arm64 archive runs --example through arm64 kubectl under qemu-user (debootstrap root)
	@command -v qemu-aarch64-static >/dev/null && command -v debootstrap >/dev/null || { \
	  if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq qemu-user-static debootstrap >/dev/null; }
	$(PY) packaging/qemu_arm64.py --root $(QEMU_ROOT)

bench-startup: venv  ## start-up times of --help, --example, completion and the krew archive
	$(PY) bench/bench_startup.py
