"""nameko's entrypoints, with our errors declared as expected.

An expected error (bad input, conflict, not found...) is the caller's business: nameko logs
it without a traceback, and the caller gets the same exception class back.
"""
import functools

from nameko.rpc import rpc as _rpc

from kernel.errors import ChallengeError

rpc = functools.partial(_rpc, expected_exceptions=ChallengeError)


class Answers:
    """Mixed into every service: `ping` is how the gateway's /readyz knows it answers.

    Subclass it as `entrypoints.Answers`, not a name imported into the service's module:
    `nameko run <module>` takes every class in the module that has entrypoints for a service.
    """

    @rpc
    def ping(self):
        return "pong"
