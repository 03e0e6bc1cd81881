"""Microsoft 365 through Microsoft Graph: settings, scopes, the Graph client, sign-in (MSAL).

Heavy imports (httpx, msal) happen inside the functions that talk to Microsoft, so a command
that does not use a Microsoft surface never pays for them.
"""
