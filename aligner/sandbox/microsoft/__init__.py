"""Fake Microsoft Graph: the endpoints the Microsoft surfaces use, in Graph's JSON shapes."""
