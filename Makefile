# dataseal — the two commands a new user needs:
#   make run    start dataseal on its embedded default (no other set-up)
#   make test   install what the tests need and run every test
# Everything else here is what those two are made of.

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
SLITHER_VENV := .venv-slither
NODE_BIN := node_modules/.bin

.PHONY: run walk sysdeps migration migration-initial bench-seal bench-chain bench-registry bench-api test venv node test-contracts coverage lint-contracts lint-python test-python check-artifacts artifacts bench-gas clean

# The product on its embedded default (`dataseal up`): a persistent chain in ./.dataseal served over JSON-RPC on
# 127.0.0.1:8545, the indexer, and the HTTP API on 127.0.0.1:8000 (/docs, /health). The first start creates the
# operator account, funds it and deploys the contracts.
run: venv
	$(VENV)/bin/dataseal up

# An end-to-end walk of the contracts on a throwaway in-memory chain.
walk: venv
	$(PY) scripts/walk.py

test: venv node sysdeps lint-python test-contracts coverage lint-contracts test-python

# System packages the tests need (Debian): a CJK font and pdftoppm for the certificates, PostgreSQL 15's
# server binaries for the registry's tests (which start their own server), Debian's chromium for the web pages'
# end-to-end tests (Playwright drives it: no browser download). As root, what is missing is apt-get installed; as
# another user, it is named and make fails. Silent when everything is there.
PG_BIN := /usr/lib/postgresql/15/bin
CJK_FONT := /usr/share/fonts/truetype/wqy/wqy-microhei.ttc
CHROMIUM := /usr/bin/chromium
sysdeps:
	@missing=""; \
	test -f $(CJK_FONT) || missing="$$missing fonts-wqy-microhei"; \
	test -x $(CHROMIUM) || missing="$$missing chromium"; \
	command -v pdftoppm >/dev/null 2>&1 || missing="$$missing poppler-utils"; \
	ldconfig -p | grep -q 'libharfbuzz-subset\.so\.0 ' || missing="$$missing libharfbuzz-subset0"; \
	test -x $(PG_BIN)/initdb -a -x $(PG_BIN)/postgres || missing="$$missing postgresql-15"; \
	if [ -z "$$missing" ]; then exit 0; fi; \
	if [ "$$(id -u)" != 0 ]; then \
		echo "missing system packages:$$missing; install them as root:" \
		     "apt-get install --no-install-recommends$$missing (or run make sysdeps as root)" >&2; \
		exit 1; \
	fi; \
	echo "installing system packages:$$missing"; \
	export DEBIAN_FRONTEND=noninteractive; \
	apt-get update -qq && apt-get install -y -qq --no-install-recommends $$missing >/dev/null

# A new revision of the registry database from the models: make migration MESSAGE="add the grant's scope root".
# migration-initial replaces every revision with one initial revision (before the first release only).
migration: venv
	@test -n "$(MESSAGE)" || { echo 'give MESSAGE="what the revision does"' >&2; exit 2; }
	$(PY) scripts/new_migration "$(MESSAGE)"

migration-initial: venv
	$(PY) scripts/new_migration --initial

venv: $(VENV)/.installed
$(VENV)/.installed: pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	touch $@

node: node_modules/.installed
node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

# Compile the contracts and rewrite dataseal/chain/contracts/artifacts/ (commit the result).
artifacts: node
	$(PY) scripts/build_contracts

# Fail when the committed artifacts differ from a fresh compile.
check-artifacts: node venv
	$(PY) scripts/build_contracts --check

test-contracts: node
	$(NODE_BIN)/hardhat test

# solidity-coverage; fails below the branch threshold in scripts/check_coverage.js.
coverage: node
	$(NODE_BIN)/hardhat coverage
	node scripts/check_coverage.js

# slither in its own .venv-slither (created on first use; needs web3<8): fails on High/Medium.
lint-contracts: node
	$(PYTHON) scripts/lint_contracts

lint-python: venv
	$(VENV)/bin/ruff check dataseal scripts tests
	$(VENV)/bin/mypy dataseal scripts/walk.py scripts/bench
	$(VENV)/bin/lint-imports

# On every core (pytest-xdist): each worker starts its own nodes and PostgreSQL. PYTEST_WORKERS=0 runs serially.
# --dist loadgroup: the tests of one xdist_group run on one worker (tests/e2e share one `dataseal up` and journey).
PYTEST_WORKERS ?= auto
test-python: venv
	$(PY) -m pytest -n $(PYTEST_WORKERS) --dist loadgroup

bench-gas: venv
	$(PY) scripts/bench/gas.py

bench-seal: venv node
	$(PY) scripts/bench/seal.py

bench-chain: venv node
	$(PY) scripts/bench/chain.py

# The registry: indexing 100,000 real events from a hardhat node (SQLite, PostgreSQL) beside paged eth_getLogs, an
# asset's trail page, stored-tree proofs at 10M leaves (~15 minutes, ~2 GB of memory).
bench-registry: venv node sysdeps
	$(PY) scripts/bench/registry.py

# The HTTP API under load from a second process (64 connections, aiohttp): POST /verify/proof and GET /assets/{id}
# beside a constant route of the same `dataseal up`, on SQLite and PostgreSQL (~5 minutes). Figures only: no target
# is enforced.
bench-api: venv sysdeps
	$(PY) scripts/bench/api.py

clean:
	rm -rf .hardhat coverage coverage.json typechain-types
