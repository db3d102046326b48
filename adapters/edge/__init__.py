"""What every route shares at the HTTP edge: bounded bodies, strict parsing, server limits, sign-in
start pages; what outbound API calls share (`outbound`); and the core's use cases both chat
front-ends are given (`front`).

The other adapters may use it; it uses none of them.
"""
