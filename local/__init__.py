"""The local runtime: wiring only, never shipped to Lambda (DESIGN invariant 13)."""
