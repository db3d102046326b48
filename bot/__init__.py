"""meetbot's core: domain types with their rules, ports, use cases and the command grammar.

It imports nothing outside itself but the standard library and pure libraries (re2 for patterns a
stranger can type). `app` builds it with adapters and repositories; import-linter checks both.
"""
