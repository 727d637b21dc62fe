"""The embedded bus: kombu's in-memory transport, made fit for nameko.

Two adjustments (architecture.md, "Two ways to run"):
- kombu's virtual messages carry `content_type` outside `properties`, and nameko's RPC
  responder reads it from `properties`: the channel copies it in.
- the virtual transport polls its queues once a second by default, which makes RPC crawl;
  this one polls every few milliseconds.
Use it with `AMQP_URI=memory://localhost/` after `install()` (the embedded runner does both).
"""
from kombu.transport import TRANSPORT_ALIASES
from kombu.transport import memory

POLL_SECONDS = 0.005


class Channel(memory.Channel):
    def message_to_python(self, raw_message):
        message = super().message_to_python(raw_message)
        props = message.properties
        if "content_type" not in props and message.content_type:
            props["content_type"] = message.content_type
        if "content_encoding" not in props and message.content_encoding:
            props["content_encoding"] = message.content_encoding
        return message


class Transport(memory.Transport):
    Channel = Channel
    polling_interval = POLL_SECONDS


EMBEDDED_URI = "memory://localhost/"


def install():
    """Route `memory://` to this transport (process-wide, idempotent)."""
    TRANSPORT_ALIASES["memory"] = "kernel.bus:Transport"


def reset():
    """Forget every queue and binding (between embedded platforms in one test process)."""
    memory.Channel.queues.clear()
    memory.Channel.events.clear()
    memory.Transport.global_state.clear()
