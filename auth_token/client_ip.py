"""The client's IP address: ``REMOTE_ADDR``, or what your own proxies say it is.

``AUTH_TOKEN_CLIENT_IP = {"header": "X-Forwarded-For", "trusted_proxies": ["10.0.0.1", "10.1.0.0/16"]}``
believes the header only when ``REMOTE_ADDR`` is a trusted proxy. Read from the right, each
address was written by the hop to its right; the first one that is not a trusted proxy is the
client, and everything to its left was written by the client itself. If every address is a
trusted proxy, the request started at one of them: the left-most is returned. An address that
does not parse gives None, never an exception. A one-address header such as ``X-Real-IP`` is the
same walk over a list of one.
"""

from __future__ import annotations

import ipaddress
import logging
import re
from collections.abc import Mapping
from functools import lru_cache
from typing import TYPE_CHECKING, NamedTuple

from auth_token.conf import meta_key, settings

if TYPE_CHECKING:
    from django.http import HttpRequest

logger = logging.getLogger(__name__)

KEYS = ("header", "trusted_proxies")
# django-ipware's options, which this setting took before: they trusted what the client wrote.
IPWARE_KEYS = ("proxy_count", "proxy_trusted_ips")
# RFC 9110 token characters, without "_": ASGI servers and most proxies drop such headers.
HEADER_NAME = re.compile(r"[A-Za-z0-9!#$%&'*+.^`|~-]+")

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network


class Proxies(NamedTuple):
    """A parsed CLIENT_IP: the ``request.META`` key of the header and the trusted networks."""

    meta_key: str
    networks: tuple[Network, ...]

    def trust(self, address: Address) -> bool:
        return any(address in network for network in self.networks)


def client_ip(request: HttpRequest | None) -> str | None:
    """Return the client address, or None when it is missing or invalid.

    ``REMOTE_ADDR`` unless ``AUTH_TOKEN_CLIENT_IP`` names a header and ``REMOTE_ADDR`` is one of
    its trusted proxies; never an address the client chose.
    """
    if request is None:
        return None
    remote = _parse_address(request.META.get("REMOTE_ADDR"))
    options = settings.CLIENT_IP
    if remote is None or options is None:
        return None if remote is None else str(remote)
    try:
        proxies = parse_options(options)
    except ValueError as error:
        # Check auth_token.E005 reports it; a login still works, with the proxy's address.
        logger.warning("AUTH_TOKEN_CLIENT_IP %s; using REMOTE_ADDR", error)
        return str(remote)
    if not proxies.trust(remote):
        return str(remote)
    address = _forwarded_client(request.META.get(proxies.meta_key, ""), proxies, remote)
    return None if address is None else str(address)


def _forwarded_client(header: str, proxies: Proxies, remote: Address) -> Address | None:
    """Return the right-most address of ``header`` (then ``remote``) that ``proxies`` does not trust.

    The left-most address when all are trusted; None when an address reached does not parse.
    """
    address = remote
    # Repeated header lines reach META joined by commas, in order.
    entries = header.split(",") if header.strip() else []
    for entry in reversed(entries):
        address = _parse_address(entry.strip())
        if address is None or not proxies.trust(address):
            return address
    return address


def _parse_address(value: object) -> Address | None:
    """Return ``value`` as an IP address (an IPv4-mapped IPv6 address as IPv4), or None."""
    if not isinstance(value, str) or not value:
        return None
    try:
        address = ipaddress.ip_address(value)
    except ValueError:
        return None
    return getattr(address, "ipv4_mapped", None) or address


def parse_options(options: object) -> Proxies:
    """Return a CLIENT_IP dict parsed; raise ValueError saying what is wrong with it."""
    if not isinstance(options, Mapping):
        raise ValueError(f"must be None or a dict with {KEYS[0]!r} and {KEYS[1]!r}")
    unknown = sorted(map(str, set(options) - set(KEYS)))
    if unknown:
        raise ValueError(f"has unknown keys {', '.join(map(repr, unknown))}")
    header, proxies = options.get("header"), options.get("trusted_proxies")
    if not isinstance(header, str):
        raise ValueError("needs 'header', the name of the header your proxy sets, e.g. 'X-Forwarded-For'")
    if not isinstance(proxies, list | tuple) or not proxies:
        raise ValueError("needs 'trusted_proxies', a non-empty list of your proxies' addresses or networks")
    if not all(isinstance(entry, str) for entry in proxies):
        raise ValueError("'trusted_proxies' must hold strings, e.g. '10.0.0.1' or '10.1.0.0/16'")
    return _parse(header, tuple(proxies))


@lru_cache(maxsize=8)  # once per settings value, not on every login
def _parse(header: str, proxies: tuple[str, ...]) -> Proxies:
    if "_" in header:
        raise ValueError(f"header {header!r} contains an underscore, which ASGI servers and proxies drop")
    if not HEADER_NAME.fullmatch(header):
        raise ValueError(f"header {header!r} is not a header name such as 'X-Forwarded-For'")
    if header.lower() == "forwarded":
        raise ValueError("header 'Forwarded' (RFC 7239) is not supported; use 'X-Forwarded-For'")
    networks = []
    for entry in proxies:
        try:
            network = ipaddress.ip_network(entry.strip())
        except ValueError as error:
            raise ValueError(f"trusted proxy {entry!r} is not an IP address or network ({error})") from None
        if network.prefixlen == 0:
            raise ValueError(f"trusted proxy {entry!r} trusts every address: any client could pick its own")
        networks.append(network)
    return Proxies(meta_key(header), tuple(networks))
