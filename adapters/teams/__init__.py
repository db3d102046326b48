"""Microsoft Teams as a chat front-end, on botbuilder-python (archived upstream).

botbuilder is imported here and nowhere else, so the package can be swapped for Microsoft's
successor SDK without touching the core: `connector` (the adapter and Connector clients) with its
parts `config`, `credentials`, `service_urls` (the allow-list) and `connector_errors`;
`references` (where the bot may post proactively), `bot` (activities → use cases), `cards`
(messages → Adaptive Cards, pure), `sender` (ChatSender), `routes` (`POST /api/messages`) and
`manifest` (the Teams app package).
"""
