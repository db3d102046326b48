"""meetbot: online video meetings for booking businesses, run from Slack and Microsoft Teams.

`bot` is the product's heart: domain types, use cases and the ports they need. It imports no SDK,
no web framework and no database library; `bot.main` is the one place that wires adapters in.
"""
