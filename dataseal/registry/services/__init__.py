"""The registry's services: the documented Python API of what dataseal does (the CLI and the HTTP API only
render them). Each takes a :class:`~dataseal.registry.registry.Registry` (the chain and the database of one set
of settings) and raises :class:`~dataseal.errors.DatasealError` subclasses.

- :mod:`.assets`: register a dataset, register a new version (seal, commit, register, store the tree, certify);
- :mod:`.status_changes`: cancel, review (approve, reject, object, suspend, reinstate, the pending list) and the
  reviewers; :mod:`.writer`: what every asset write needs;
- :mod:`.verify`: is this data a registered asset (the chain answers), and if not, what differs from the
  nearest registered version;
- :mod:`.evidence`: evidence bundles (a proof with the on-chain record) and checking a bundle against any
  RPC endpoint;
- :mod:`.grants`: grant and revoke (with a scope of rows or chunks), a grant's state;
- :mod:`.usage`: usage receipts, recording usage singly or in batches, metered against the grant;
- :mod:`.trades`: a sale the buyer countersigns (the token moves, or a licence grant is made);
- :mod:`.accounts`: send ETH for gas to a new account (a grantee on the embedded chain).

A short example (the embedded chain of ``./.dataseal``)::

    from dataseal.registry.registry import Registry
    from dataseal.registry.services import assets, verify
    from dataseal.registry.settings import Settings

    with Registry.open(Settings()) as registry:
        done = assets.register(registry, Path("survey.csv"), title="Survey 2024", rights=("holding",))
        print(done.asset_id, done.tx_hash)
        report = verify.verify(registry, Path("survey.csv"))
        assert report.registered and report.asset_id == done.asset_id

Every write goes through :mod:`dataseal.registry.outbox`, so that running it again after a crash finishes the
same write instead of making a second one.
"""
