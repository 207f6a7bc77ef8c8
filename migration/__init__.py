"""Move subscriptions in from other platforms and back out again (one mapping module per format)."""
