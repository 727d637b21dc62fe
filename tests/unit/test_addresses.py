"""X-Forwarded-For is believed only from the proxies a deployment names."""
import pytest

from gateway.addresses import client_address, parse_proxies

PROXIES = parse_proxies("10.0.0.0/8, 192.168.1.7, fd00::/8")


def test_nobody_is_trusted_by_default():
    assert client_address("203.0.113.9", "1.2.3.4", parse_proxies("")) == "203.0.113.9"
    assert client_address("10.0.0.2", "1.2.3.4", ()) == "10.0.0.2"


def test_a_spoofed_header_from_an_untrusted_peer_is_ignored():
    assert client_address("203.0.113.9", "10.0.0.1, 1.2.3.4", PROXIES) == "203.0.113.9"


def test_through_trusted_proxies_the_nearest_untrusted_hop_is_the_client():
    assert client_address("10.0.0.2", "198.51.100.4", PROXIES) == "198.51.100.4"
    # the client wrote a fake first entry; the proxies appended what they saw
    assert client_address("10.0.0.2", "6.6.6.6, 198.51.100.4, 192.168.1.7",
                          PROXIES) == "198.51.100.4"
    # every hop a proxy: the farthest one is as far as we can see
    assert client_address("10.0.0.2", "10.1.1.1, 10.2.2.2", PROXIES) == "10.1.1.1"
    assert client_address("10.0.0.2", "", PROXIES) == "10.0.0.2"


def test_garbage_stops_at_the_last_trusted_hop():
    assert client_address("10.0.0.2", "198.51.100.4, not-an-ip", PROXIES) == "10.0.0.2"
    assert client_address("10.0.0.2", "not-an-ip, 10.3.3.3", PROXIES) == "10.3.3.3"


def test_ports_and_ipv6():
    assert client_address("10.0.0.2", "198.51.100.4:5555", PROXIES) == "198.51.100.4"
    assert client_address("fd00::1", "[2001:db8::7]:443", PROXIES) == "2001:db8::7"
    assert client_address("fd00::1", "2001:db8::8", PROXIES) == "2001:db8::8"
    assert client_address("2001:db8::9", "198.51.100.4", PROXIES) == "2001:db8::9"


def test_a_bad_setting_is_an_error_at_start_up():
    with pytest.raises(ValueError, match="TRUSTED_PROXIES"):
        parse_proxies("10.0.0.0/8, proxy.local")
