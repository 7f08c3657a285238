"""What both payload generators share, without Hypothesis: the schema subset, leaf values and exact seeded regexes.

``harness.strategies`` (Hypothesis) and ``harness.volume`` (seeded, fast) both build on these modules.
"""
