"""The local stack's parts, one module per server it starts (entry point: deploy/local/stack.py)."""
