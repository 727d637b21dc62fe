import pytest

from gateway.ratelimit import Window
from kernel.errors import RateLimited


class Tick:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


def test_sliding_window_per_key_with_the_wait_to_tell():
    tick = Tick()
    window = Window(limit=3, seconds=60, clock=tick)
    for _ in range(3):
        window.check("1.2.3.4", "codes")
    window.check("5.6.7.8", "codes")  # another address has its own count
    with pytest.raises(RateLimited) as limited:
        window.check("1.2.3.4", "codes")
    assert limited.value.retry_after == 60
    tick.now += 59.5
    with pytest.raises(RateLimited) as limited:
        window.check("1.2.3.4", "codes")
    assert limited.value.retry_after == 1
    tick.now += 0.5
    window.check("1.2.3.4", "codes")


def test_rate_limited_crosses_rpc_with_its_wait():
    from nameko.exceptions import deserialize, serialize

    again = deserialize(serialize(RateLimited("slow down", retry_after=42)))
    assert isinstance(again, RateLimited) and again.retry_after == 42
    assert again.message == "slow down"
