"""Who may print: a printer's calling-AE and peer-address allow-lists (profile [association]).

Checked when the A-ASSOCIATE-RQ arrives, before negotiation; a refusal is an
A-ASSOCIATE-RJ (PS3.8 9.3.4) that tells the modality why, permanent, from the service user:
reason 3 "calling-AE-title-not-recognized", or reason 1 "no-reason-given" for an address
(the peer could not change its address anyway, and the reason list has none for it).
"""

from __future__ import annotations

import ipaddress
import logging

from pynetdicom import evt

log = logging.getLogger("printscp.scp")

REJECTED_PERMANENT = 0x01
SOURCE_SERVICE_USER = 0x01
REASON_NONE_GIVEN = 0x01
REASON_CALLING_AE = 0x03


def refusal(settings, calling_ae: str, address: str) -> tuple[int, str] | None:
    """(A-ASSOCIATE-RJ reason, why for the log) when the printer refuses this peer; None to accept.
    `settings`: the profile's AssociationSettings."""
    if settings.allowed_peers and not _address_allowed(address, settings.allowed_peers):
        return REASON_NONE_GIVEN, f"address {address} is not in allowed_peers"
    allowed = {title.strip() for title in settings.allowed_calling_aes}
    if allowed and calling_ae.strip() not in allowed:
        return REASON_CALLING_AE, f"calling AE title {calling_ae!r} is not in allowed_calling_aes"
    return None


def _address_allowed(address: str, networks) -> bool:
    try:
        ip = ipaddress.ip_address(address.split("%")[0])
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped  # ::ffff:10.0.0.1 on a dual-stack socket is 10.0.0.1
    return any(ip in ipaddress.ip_network(net, strict=False) for net in networks)


def reject(assoc, reason: int) -> None:
    """Send the A-ASSOCIATE-RJ from the EVT_REQUESTED handler, as pynetdicom's own checks do."""
    assoc.acse.send_reject(REJECTED_PERMANENT, SOURCE_SERVICE_USER, reason)
    evt.trigger(assoc, evt.EVT_REJECTED, {})
    assoc.kill()
