"""Counting: the running state of a pass (counter), one streaming pass (single), shard by shard
with state and executors (sharded, executors, state), near-duplicate search, and the results."""
