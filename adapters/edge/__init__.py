"""What every route shares at the HTTP edge: bounded bodies, strict parsing, server limits, sign-in
start pages; and what outbound API calls share (`outbound`).

The other adapters may use it; it uses none of them.
"""
