"""The use cases: command parsing, who may do what, ledger changes, the call-list ranking and
the neutral message model adapters render. Knows no chat SDK."""
