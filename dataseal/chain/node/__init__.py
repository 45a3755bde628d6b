"""`dataseal node`: the embedded chain (:mod:`dataseal.chain.embedded`) put to work in a data folder,
with its operator account, its deployed contracts and its JSON-RPC server (:mod:`.start`), and the
files other commands find it by (:mod:`.layout`). Nothing here is imported at package import: the
engine loads py-evm, which the CLI loads only when a node runs."""
