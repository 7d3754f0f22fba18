"""The meter: allowances, the one unlock decision, its fast path, the no-JavaScript page."""
