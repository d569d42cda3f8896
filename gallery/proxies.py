"""Client addresses and the request's scheme, believed only from trusted proxies (GLOWWORM_TRUSTED_PROXIES).

Without the setting, X-Forwarded-For and X-Forwarded-Proto are ignored: the peer is the client. With CIDRs, the
X-Forwarded-For list is read from the right, skipping hops that are trusted proxies; the first untrusted address
is the client (so a client cannot pick its address by sending a header of its own). With a hop count N, the N-th
address from the right is the client: for a chain of N proxies that each append the address they saw.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@dataclass(frozen=True)
class TrustedProxies:
    networks: tuple[Network, ...] = ()
    hops: int = 0

    @classmethod
    def parse(cls, value: str) -> TrustedProxies:
        value = value.strip()
        if not value:
            return cls()
        if value.isdigit():
            return cls(hops=int(value))
        networks = []
        for item in value.split(","):
            if not item.strip():
                continue
            try:
                networks.append(ipaddress.ip_network(item.strip(), strict=False))
            except ValueError:
                raise ImproperlyConfigured(
                    f"GLOWWORM_TRUSTED_PROXIES: {item.strip()!r} is not an address or CIDR (e.g. 10.0.0.0/8), and "
                    "the whole value is not a hop count"
                ) from None
        return cls(networks=tuple(networks))

    def __bool__(self) -> bool:
        return bool(self.networks or self.hops)

    def trusts(self, address: str) -> bool:
        if self.hops:
            return True  # a hop count trusts the chain by its length, not by address
        parsed = _parse(address)
        return parsed is not None and any(parsed in network for network in self.networks)

    def client(self, peer: str, forwarded_for: str) -> str:
        """The client's address, given the peer of the connection and the X-Forwarded-For header."""
        if not self or not self.trusts(peer):
            return peer
        hops = [hop.strip() for hop in forwarded_for.split(",") if hop.strip()]
        if not hops:
            return peer
        if self.hops:
            return hops[-self.hops] if len(hops) >= self.hops else hops[0]
        for hop in reversed(hops):
            if not self.trusts(hop):
                return hop
        return hops[0]


def _parse(address: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        parsed = ipaddress.ip_address(address.strip().strip("[]"))
    except ValueError:
        return None
    if isinstance(parsed, ipaddress.IPv6Address) and parsed.ipv4_mapped:
        return parsed.ipv4_mapped
    return parsed


def trusted_proxies() -> TrustedProxies:
    return TrustedProxies.parse(settings.GLOWWORM_TRUSTED_PROXIES)


def client_network(address: str) -> str:
    """What rate limits count by: the IPv4 address, or the /64 of an IPv6 address (one household's prefix, which
    a client can rotate through at will)."""
    parsed = _parse(address)
    if parsed is None:
        return address
    if isinstance(parsed, ipaddress.IPv6Address):
        return str(ipaddress.IPv6Network((parsed, 64), strict=False))
    return str(parsed)


class TrustedProxyMiddleware:
    """First in the chain: REMOTE_ADDR becomes the client's address, and X-Forwarded-Proto (which Django's
    SECURE_PROXY_SSL_HEADER reads) is dropped unless a trusted proxy sent it."""

    def __init__(self, get_response):
        self.get_response = get_response
        self.proxies = trusted_proxies()

    def __call__(self, request):
        peer = request.META.get("REMOTE_ADDR", "")
        if self.proxies and self.proxies.trusts(peer):
            request.META["REMOTE_ADDR"] = self.proxies.client(peer, request.META.get("HTTP_X_FORWARDED_FOR", ""))
        else:
            request.META.pop("HTTP_X_FORWARDED_PROTO", None)
        request.META.pop("HTTP_X_FORWARDED_FOR", None)  # read once, here; nobody else may trust it
        return self.get_response(request)
