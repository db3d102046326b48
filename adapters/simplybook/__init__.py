"""SimplyBook.me: JSON-RPC API client, booking parsing, and the callback (webhook) endpoint."""
