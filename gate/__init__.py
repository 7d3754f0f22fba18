"""The gate: accounts, signed sessions and the metered unlock of protected sections."""
