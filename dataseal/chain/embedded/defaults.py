"""Defaults of the embedded chain that front doors show in their help (no py-evm import here:
loading py-evm costs a second and raises Python's recursion limit, so the CLI imports it only
when `dataseal node` runs)."""
from __future__ import annotations

DEFAULT_CHAIN_ID = 0x64617461  # 1684108385: the ASCII bytes of "data"; not a public chain's id
DEFAULT_FUNDING_WEI = 1_000_000 * 10**18  # what genesis gives the operator
DEFAULT_CALL_GAS_CAP = 50_000_000  # geth's RPCGasCap: the most gas one eth_call / eth_estimateGas may use
DEFAULT_CALL_TIMEOUT = 5.0  # geth's RPCEVMTimeout: the longest (seconds) one eth_call / eth_estimateGas may run
