"""Microsoft Graph: connecting work accounts with msal, their tokens, and Teams meetings.

`MsConnect` runs the sign-in, `GraphTokens` keeps each account's msal cache fresh, and
`GraphMeetings` is the core's meeting-platform port for Teams.
"""

from adapters.msgraph.connect import ConnectRefused, MsConnect, MsConnection, RefusalKind
from adapters.msgraph.meetings import GraphMeetings
from adapters.msgraph.msal_apps import MsalApps, MsalConfig
from adapters.msgraph.tokens import GraphTokens

__all__ = [
    "ConnectRefused",
    "GraphMeetings",
    "GraphTokens",
    "MsConnect",
    "MsConnection",
    "MsalApps",
    "MsalConfig",
    "RefusalKind",
]
