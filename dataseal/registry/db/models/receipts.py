"""Usage receipts: the documents whose hashes the ledger records."""
