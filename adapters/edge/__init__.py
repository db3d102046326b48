"""What every route shares at the HTTP edge: bounded bodies, strict parsing, server limits.

The other adapters may use it; it uses none of them.
"""
