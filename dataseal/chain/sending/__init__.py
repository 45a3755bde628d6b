"""The sending role of the chain layer: turning a call into a mined transaction.

- :mod:`.sender`: :class:`LocalSender` (fill, sign, send, wait) and :class:`TxSender`, what the
  contract clients need of a sender;
- :mod:`.fees`: EIP-1559 fees (or a legacy gas price) from the node, cached;
- :mod:`.nonces`: nonces handed out through a :class:`NonceStore` (memory, file, or a shared store).
"""
