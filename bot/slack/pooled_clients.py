"""slack_sdk's synchronous WebClient and WebhookClient over kept connections (:mod:`http_pool`).

slack_sdk offers no public seam for its sync transport: both clients call ``urlopen`` inside one
private method, which takes the finished ``urllib.request.Request`` and returns the response
(raising ``HTTPError`` for a non-2xx). Everything around it (building the request, the retry
handlers, Retry-After, the ``SlackResponse`` and its errors) is slack_sdk's own and stays so;
only that one method is replaced. tests/test_slack_http_pool.py pins both methods' names and
signatures and fails loudly if a slack_sdk release changes them, rather than letting the pool
go silently unused.

A client given a proxy (``HTTPS_PROXY`` in the environment too) or its own SSL context keeps
slack_sdk's own one-shot transport: the pool speaks directly to the host, with the default
verified context. File uploads to the URL ``files.getUploadURLExternal`` hands out are one-shot
too (a new URL each time)."""

from __future__ import annotations

from typing import Any
from urllib.request import Request

from slack_sdk import WebClient
from slack_sdk.webhook import WebhookClient
from slack_sdk.webhook.webhook_response import WebhookResponse

from bot.slack.http_pool import Answer, HttpPool

_shared: HttpPool | None = None


def shared_pool() -> HttpPool:
    """The process's pool: every sync Slack client shares its connections."""
    global _shared
    if _shared is None:
        _shared = HttpPool()
    return _shared


class PooledWebClient(WebClient):
    """A ``WebClient`` whose Web API calls reuse the pool's connections."""

    def __init__(self, *args: Any, pool: HttpPool, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.pool = pool

    def _perform_urllib_http_request_internal(self, url: str, req: Request) -> dict[str, Any]:
        if not _poolable(url, self.proxy, self.ssl):
            return super()._perform_urllib_http_request_internal(url, req)
        answer = self.pool.urlopen(req, timeout=self.timeout)
        if answer.headers.get_content_type() == "application/gzip":  # admin.analytics.getFile, as slack_sdk
            return {"status": answer.status, "headers": answer.headers, "body": answer.body}
        return {"status": answer.status, "headers": answer.headers, "body": _text(answer)}


class PooledWebhookClient(WebhookClient):
    """A ``WebhookClient`` (response_url answers) whose posts reuse the pool's connections."""

    def __init__(self, url: str, *args: Any, pool: HttpPool, **kwargs: Any) -> None:
        super().__init__(url, *args, **kwargs)
        self.pool = pool

    def _perform_http_request_internal(self, url: str, req: Request) -> WebhookResponse:
        if not _poolable(url, self.proxy, self.ssl):
            response: WebhookResponse = super()._perform_http_request_internal(url, req)
            return response
        answer = self.pool.urlopen(req, timeout=self.timeout)
        return WebhookResponse(url=url, status_code=answer.status, body=_text(answer), headers=answer.headers)  # type: ignore[arg-type]


def _poolable(url: str, proxy: str | None, context: object) -> bool:
    return url.lower().startswith(("http://", "https://")) and not proxy and context is None


def _text(answer: Answer) -> str:
    return answer.body.decode(answer.headers.get_content_charset() or "utf-8")
