"""Outgoing mail shared by every product: an outbox written in the caller's transaction, a relay client,
a delivery worker (retries, leases, exactly one delivery per message) and DKIM signing."""
