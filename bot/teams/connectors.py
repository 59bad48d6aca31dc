"""Bot Connector clients kept for the life of the server instead of made for every activity.

CloudAdapter asks its authentication for a new ConnectorClient and a new UserTokenClient on each
incoming activity. Each is an msrest client with its own configuration, pipeline and
``requests`` session, so every Teams message paid for building two clients (about a tenth of
the server's CPU per message at 50 messages a second) and its reply opened a new TCP (in
production TLS) connection to the Bot Connector. The clients hold nothing about the turn: a
client is its service URL, the bot's credentials (which fetch and renew their own token) and
the audience those are for. So one per (bot app id, service URL, audience) is kept and reused,
with its session's kept-alive connections, as BotFrameworkAdapter once did with its own
connector client cache.

The clients kept also send a card's content as the JSON it already is: msrest walks an
attachment's ``object`` content value by value (an ``eval`` per string and number), which for a
status card was the largest part of sending the reply. :class:`PlainJsonSerializer` hands plain
JSON data (dicts, lists, strings, numbers, booleans, nulls) over unchanged, which is what that
walk returns for it, and leaves anything else to msrest."""

from __future__ import annotations

from collections import OrderedDict
from typing import Any

from botframework.connector.aio import ConnectorClient
from botframework.connector.auth import ClaimsIdentity, ConnectorFactory, JwtTokenValidation
from msrest.serialization import Serializer

KEPT = 64  # clients at most (Teams gives a handful of service URLs; this bounds a misbehaving sender)


class KeptClients:
    """The clients of one server, by what makes them differ; oldest dropped past :data:`KEPT`."""

    def __init__(self, limit: int = KEPT) -> None:
        self.limit = limit
        self._clients: OrderedDict[tuple[str, ...], Any] = OrderedDict()
        self.made = 0  # clients built so far (the rest were reused)

    def get(self, key: tuple[str, ...]) -> Any | None:
        client = self._clients.get(key)
        if client is not None:
            self._clients.move_to_end(key)
        return client

    def keep(self, key: tuple[str, ...], client: Any) -> Any:
        self.made += 1
        self._clients[key] = client
        while len(self._clients) > self.limit:
            self._clients.popitem(last=False)
        return client


class KeptConnectorFactory(ConnectorFactory):
    """The SDK's connector factory for one bot app id, answering from ``kept`` when it can."""

    def __init__(self, inner: ConnectorFactory, app_id: str, kept: KeptClients) -> None:
        self._inner, self._app_id, self._kept = inner, app_id, kept

    async def create(self, service_url: str, audience: str) -> ConnectorClient:
        key = ("connector", self._app_id, service_url, audience or "")
        client = self._kept.get(key)
        if client is None:
            client = self._kept.keep(key, with_plain_json(await self._inner.create(service_url, audience)))
        return client  # type: ignore[no-any-return]


_LEAVES = frozenset({str, int, float, bool, type(None)})


class SharedCard(dict[str, Any]):
    """A card's content on its way out. The SDK deep-copies every activity it sends, card and
    all; a card is not changed once drawn, so its copies may share it."""

    def __deepcopy__(self, memo: dict[int, Any]) -> SharedCard:
        return self


class PlainJsonSerializer(Serializer):  # type: ignore[misc]
    """msrest's serializer, but plain JSON data goes out as it is (see the module's docstring)."""

    def serialize_object(self, attr: Any, **kwargs: Any) -> Any:
        if type(attr) in (dict, list, SharedCard) and not kwargs.get("is_xml") and plain_json(attr):
            return attr
        return super().serialize_object(attr, **kwargs)


def plain_json(value: Any) -> bool:
    """Whether ``value`` is made of dicts with string keys, lists, strings, numbers, booleans
    and None only (exact types: an enum or a str subclass is msrest's to convert)."""
    kind = type(value)
    if kind in _LEAVES:
        return True
    if kind is dict or kind is SharedCard:
        return all(type(key) is str and plain_json(item) for key, item in value.items())
    if kind is list:
        return all(plain_json(item) for item in value)
    return False


def with_plain_json(client: Any) -> Any:
    """The client, its operation groups serializing through :class:`PlainJsonSerializer`."""
    serializer = PlainJsonSerializer(client._serialize.dependencies)
    client._serialize = serializer
    for group in (getattr(client, "conversations", None), getattr(client, "attachments", None)):
        if group is not None:
            group._serialize = serializer
    return client


def app_id_of(claims_identity: ClaimsIdentity | None) -> str:
    """The bot app id a request was addressed to ("" when authentication is off)."""
    if claims_identity is None or not claims_identity.claims:
        return ""
    return str(JwtTokenValidation.get_app_id_from_claims(claims_identity.claims) or "")
