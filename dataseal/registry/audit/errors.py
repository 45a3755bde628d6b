"""The audit trail's errors (one family per way an audit can fail)."""
from __future__ import annotations

from dataseal.errors import Conflict, InvalidInput, NotFound


class AuditInputError(InvalidInput):
    """What to audit, or where to start, is malformed (a subject that is neither an asset id nor an address,
    a cursor that is not BLOCK:LOG, a page size out of range)."""


class UnknownAsset(NotFound):
    """The asset named has no registration in the deployment."""


class TrailMismatch(Conflict):
    """The recorded trail (the registry database's) differs from the one recomputed from the chain's logs."""


class ReceiptMismatch(Conflict):
    """A usage receipt does not match what the chain recorded (unknown hash, foreign grant, rows outside
    the grant's scope)."""
