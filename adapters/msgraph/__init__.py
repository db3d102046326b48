"""Microsoft Graph: connecting work accounts with msal, their tokens, and Teams meetings.

`connect.MsConnect` runs the sign-in, `tokens.GraphTokens` keeps each account's msal cache fresh,
and `meetings.GraphMeetings` is the core's meeting-platform port for Teams. Nothing is imported
here: the routes of this package are served without msal, which only a deployment with Microsoft
configured loads.
"""
