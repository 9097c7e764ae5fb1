"""Benchmarks of seqcount (run from the project root; not part of the installed package)."""
