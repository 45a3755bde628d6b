"""The account role of the chain layer: keys and signatures.

- :mod:`.keystore`: encrypted V3 keystores (geth's format) in a folder;
- :mod:`.passwords`: the sources of a keystore password, passed in by the caller;
- :mod:`.signer`: signing transactions with a local key (libsecp256k1);
- :mod:`.eip712`: requests an asset owner signs for anyone to relay (EIP-712).
"""
