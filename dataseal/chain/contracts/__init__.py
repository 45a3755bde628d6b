"""The contract role of the chain layer: dataseal's three contracts as Python.

- :mod:`.artifacts`: the compiled contracts shipped with dataseal;
- :mod:`.deployment`: where a deployment's contracts live, the record a data folder keeps of it,
  and whether a node has them; :mod:`.deploy` deploys a new set;
- :mod:`.records`: the records of the contracts' events and the views of their state;
- :mod:`.events`: the table mapping each (contract, event) to its record, and the decoder;
- :mod:`.revert`: reverts decoded into the Solidity error and its arguments;
- :mod:`.client`, :mod:`.asset_registry`, :mod:`.grant_registry`, :mod:`.transaction_ledger`:
  one client per contract (encode, send through a sender, decode); :mod:`.deployed` binds the three;
- :mod:`.logs`: events over many blocks, in pages a node accepts.
"""
