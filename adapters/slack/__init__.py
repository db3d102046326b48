"""Slack: Block Kit rendering and the Web API sender (slack_sdk's async client)."""
