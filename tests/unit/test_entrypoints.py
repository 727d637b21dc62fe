"""Every RPC and HTTP entrypoint treats our errors as expected (logged as warnings, answered
with their status), and every event handler dead-letters."""
import pytest
from nameko.extensions import ENTRYPOINT_EXTENSIONS_ATTR
from nameko.rpc import Rpc
from nameko.timer import Timer

from challenge.platform import service_classes
from kernel.entrypoints import ReliableEventHandler
from kernel.errors import ChallengeError


def entrypoints():
    for cls in service_classes():
        for name in dir(cls):
            for entrypoint in getattr(getattr(cls, name), ENTRYPOINT_EXTENSIONS_ATTR, ()):
                yield cls.name, name, entrypoint


@pytest.mark.parametrize("service, method, entrypoint", list(entrypoints()),
                         ids=lambda v: v if isinstance(v, str) else "")
def test_entrypoint_is_ours(service, method, entrypoint):
    if isinstance(entrypoint, Rpc) or type(entrypoint).__name__ == "HttpEntrypoint":
        assert entrypoint.expected_exceptions == ChallengeError
    elif not isinstance(entrypoint, Timer):
        assert isinstance(entrypoint, ReliableEventHandler), f"{service}.{method}"
