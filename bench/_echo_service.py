"""bench/load.py's baseline: a bare nameko service that answers what it is given."""
from nameko.rpc import rpc


class EchoService:
    name = "echo"

    @rpc
    def echo(self, value):
        return value
