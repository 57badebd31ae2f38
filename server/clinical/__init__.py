"""Outcome-measure definitions, scoring and change rules (pure Python, no Flask)."""
