# dataseal — the two commands a new user needs:
#   make run    start dataseal on its embedded default (no other set-up)
#   make test   install what the tests need and run every test
# Everything else here is what those two are made of.

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
SLITHER_VENV := .venv-slither
NODE_BIN := node_modules/.bin

.PHONY: run walk bench-seal bench-chain test venv node test-contracts coverage lint-contracts lint-python test-python check-artifacts artifacts bench-gas clean

# The embedded default: a persistent chain in ./.dataseal served over JSON-RPC on 127.0.0.1:8545.
# The first start creates the operator account, funds it and deploys the contracts.
run: venv
	$(VENV)/bin/dataseal node

# An end-to-end walk of the contracts on a throwaway in-memory chain.
walk: venv
	$(PY) scripts/walk.py

test: venv node lint-python test-contracts coverage lint-contracts test-python

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

test-python: venv
	$(PY) -m pytest

bench-gas: venv
	$(PY) scripts/bench/gas.py

bench-seal: venv node
	$(PY) scripts/bench/seal.py

bench-chain: venv node
	$(PY) scripts/bench/chain.py

clean:
	rm -rf .hardhat coverage coverage.json typechain-types
