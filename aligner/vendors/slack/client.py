"""The one way aligner builds a slack-sdk WebClient (the surface, `auth slack`, `doctor`)."""

from __future__ import annotations

from slack_sdk import WebClient
from slack_sdk.http_retry import RetryHandler

from aligner.state.settings import Settings, exempt_loopback_from_proxies, is_loopback


def slack_client(
    settings: Settings, token: str | None = None, retry_handlers: list[RetryHandler] | None = None
) -> WebClient:
    """A client for ALIGNER_SLACK_API_URL; a loopback sandbox is never reached via a proxy."""
    url = settings.slack_api_url
    client = WebClient(
        token=token,
        base_url=url if url.endswith("/") else url + "/",
        timeout=30,
        retry_handlers=retry_handlers,
    )
    if is_loopback(url):  # slack-sdk copies HTTPS_PROXY into the client; undo that here
        client.proxy = None
        exempt_loopback_from_proxies()
    return client
