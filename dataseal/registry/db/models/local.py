"""What only this registry knows: manifests, stored trees, the outbox of transactions sent."""
