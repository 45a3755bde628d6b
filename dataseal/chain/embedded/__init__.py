"""The embedded chain: a persistent single-node EVM chain on py-evm, served over JSON-RPC."""
