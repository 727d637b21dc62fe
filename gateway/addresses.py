"""The client's address, for the per-address login limits.

Behind a reverse proxy every request comes from the proxy; the proxy says who it came from in
`X-Forwarded-For`, which anyone can also write. So the header is believed only from proxies
the deployment names (`TRUSTED_PROXIES`: IPs or CIDRs, comma-separated; empty by default =
trust nobody): walking the header from the right (the hop nearest us), the first address that
is not itself a trusted proxy is the client. A malformed entry stops the walk at the last
address we could trust.
"""
from __future__ import annotations

import ipaddress


def parse_proxies(text: str | None) -> tuple:
    """`10.0.0.0/8, 192.168.1.7` -> networks; a bad entry is an error at start-up, not a
    silently open door."""
    networks = []
    for item in (text or "").split(","):
        item = item.strip()
        if item:
            try:
                networks.append(ipaddress.ip_network(item, strict=False))
            except ValueError:
                raise ValueError(f"TRUSTED_PROXIES: {item!r} is not an IP address or "
                                 "network") from None
    return tuple(networks)


def _ip(text: str):
    text = text.strip()
    if text.startswith("[") and "]" in text:  # [v6]:port
        text = text[1:text.index("]")]
    elif text.count(":") == 1:  # v4:port
        text = text.split(":")[0]
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None


def _trusted(address, proxies) -> bool:
    return address is not None and any(address in network for network in proxies)


def client_address(peer: str | None, forwarded_for: str | None, proxies: tuple) -> str:
    """The client as far as we can trust: the socket's peer, unless it is a trusted proxy."""
    peer_ip = _ip(peer or "")
    if peer_ip is None:
        return peer or "unknown"
    if not _trusted(peer_ip, proxies) or not forwarded_for:
        return str(peer_ip)
    client = peer_ip
    for hop in reversed(forwarded_for.split(",")):
        address = _ip(hop)
        if address is None:
            break  # garbage: stop at the last hop a trusted proxy vouched for
        client = address
        if not _trusted(address, proxies):
            break
    return str(client)
