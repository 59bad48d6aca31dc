"""The one delivery path: use cases enqueue (commands.outbox.entries), dispatchers deliver
(commands.outbox.dispatch). See docs/architecture.md, "Delivery"."""

from commands.outbox.dispatch import Dispatcher, RoundReport
from commands.outbox.entries import enqueue

__all__ = ["Dispatcher", "RoundReport", "enqueue"]
