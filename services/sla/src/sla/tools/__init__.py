"""The SLA's offline tools: `python -m sla.tools.<tool>`, run by the `complaints` CLI (ADR 0014)."""
