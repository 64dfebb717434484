"""Finding the other nodes on the LAN: this node registers ``_metaopt._udp.local.`` over mDNS
(python-zeroconf), with its node id and cluster port in the TXT record, and browses for the
others. Discovery yields addresses only: whoever answers still has to hold the cluster key to be
let in, so a stranger on the LAN costs a join attempt and one line in the log.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from collections.abc import Callable

import ifaddr
from zeroconf import BadTypeInNameException
from zeroconf import InterfaceChoice
from zeroconf import IPVersion
from zeroconf import NonUniqueNameException
from zeroconf import ServiceStateChange
from zeroconf import Zeroconf
from zeroconf.asyncio import AsyncServiceBrowser
from zeroconf.asyncio import AsyncServiceInfo
from zeroconf.asyncio import AsyncZeroconf

_log = logging.getLogger("metaoptd")
SERVICE = "_metaopt._udp.local."
_WILDCARDS = ("", "0.0.0.0")
_RESOLVE_MS = 3000


class Discovery:
    def __init__(
        self, node_id: str, port: int, bind: str, found: Callable[[str, str], None]
    ) -> None:
        """``found(node_id, "host:port")`` is called on the event loop for each node seen."""
        self.node_id = node_id
        self.port = port
        self.bind = bind
        self.found = found
        self._zc: AsyncZeroconf | None = None
        self._browser: AsyncServiceBrowser | None = None
        self._info: AsyncServiceInfo | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    async def start(self) -> None:
        addresses = local_addresses(self.bind)
        interfaces = InterfaceChoice.All if self.bind in _WILDCARDS else [self.bind]
        self._zc = AsyncZeroconf(interfaces=interfaces, ip_version=IPVersion.V4Only)
        label = _dns_label(self.node_id)
        self._info = AsyncServiceInfo(
            SERVICE,
            f"{label}.{SERVICE}",
            port=self.port,
            properties={"node": self.node_id, "port": str(self.port)},
            server=f"{label}.local.",
            parsed_addresses=addresses,
        )
        try:
            await self._zc.async_register_service(self._info, allow_name_change=True)
        except (NonUniqueNameException, BadTypeInNameException) as exc:
            _log.warning("zeroconf: cannot register this node (%s); browsing only", exc)
            self._info = None
        self._browser = AsyncServiceBrowser(self._zc.zeroconf, SERVICE, handlers=[self._changed])
        _log.info(
            "zeroconf: announcing %s on %s; looking for other nodes",
            SERVICE,
            ", ".join(f"{a}:{self.port}" for a in addresses) or "no address",
        )

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        if self._zc is None:
            return
        with contextlib.suppress(Exception):  # going away: a send error changes nothing
            if self._browser is not None:
                await self._browser.async_cancel()
            if self._info is not None:
                await self._zc.async_unregister_service(self._info)
            await self._zc.async_close()
        self._zc = None

    def _changed(
        self,
        zeroconf: Zeroconf,
        service_type: str,
        name: str,
        state_change: ServiceStateChange,
    ) -> None:
        if state_change is ServiceStateChange.Removed:
            return  # membership, not discovery, says when a node is gone
        task = asyncio.get_running_loop().create_task(self._resolve(zeroconf, name))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _resolve(self, zeroconf: Zeroconf, name: str) -> None:
        info = AsyncServiceInfo(SERVICE, name)
        if not await info.async_request(zeroconf, _RESOLVE_MS):
            return
        props = info.decoded_properties
        node = props.get("node") or name.removesuffix("." + SERVICE)
        port = props.get("port") or str(info.port)
        if node == self.node_id or not port or not port.isdigit():
            return
        for address in info.parsed_addresses(IPVersion.V4Only):
            self.found(node, f"{address}:{port}")


def local_addresses(bind: str) -> list[str]:
    """The IPv4 addresses this node is reached at: ``bind`` itself, or every interface's but
    loopback (loopback too when it is all there is)."""
    if bind not in _WILDCARDS:
        return [bind]
    found = [
        str(ip.ip)
        for adapter in ifaddr.get_adapters()
        for ip in adapter.ips
        if isinstance(ip.ip, str)
    ]
    outside = [a for a in found if not a.startswith("127.")]
    return sorted(set(outside or found))


def _dns_label(node_id: str) -> str:
    """An mDNS instance label: at most 63 bytes of letters, digits and '-'."""
    label = "".join(c if c.isalnum() or c == "-" else "-" for c in node_id)
    return label[:63] or socket.gethostname()[:63]
