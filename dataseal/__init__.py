"""dataseal: register data assets on an EVM chain, prove their content with Merkle proofs, and audit
who may use them and how they were used.

The installed package is this one namespace: ``dataseal.chain`` (EVM access and the embedded
chain), ``dataseal.registry`` (the domain), ``dataseal.api`` and ``dataseal.cli`` (the front doors).
"""
