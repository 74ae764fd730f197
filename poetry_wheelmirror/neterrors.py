"""Saying what went wrong on the network in words: connection refused, name not
resolved, TLS, timeout, instead of only the exception's class name.

requests and urllib3 wrap the socket error several layers deep (ConnectionError ->
MaxRetryError.reason -> NewConnectionError -> ConnectionRefusedError); this walks
that chain and names the first cause it recognises.
"""

from __future__ import annotations

import socket
import ssl
from collections.abc import Iterator

__all__ = ["describe_network_error"]


def _causes(error: BaseException) -> Iterator[BaseException]:
    """*error* and everything it wraps, breadth first, each once."""
    seen: set[int] = set()
    queue: list[BaseException] = [error]
    while queue:
        current = queue.pop(0)
        if id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        linked = [getattr(current, "reason", None), current.__cause__, current.__context__]
        linked += list(current.args)
        queue.extend(e for e in linked if isinstance(e, BaseException))


def describe_network_error(error: BaseException) -> str:
    """A few words for what happened, e.g. ``connection refused``."""
    chain = list(_causes(error))
    names = {type(e).__name__ for e in chain}
    for e in chain:
        if isinstance(e, ssl.SSLCertVerificationError):
            detail = e.verify_message or e.reason or "certificate verify failed"
            return f"TLS certificate not accepted ({detail})"
    for e in chain:
        if isinstance(e, ssl.SSLError):
            return f"TLS handshake failed ({e.reason or e})"
    if "NameResolutionError" in names or any(isinstance(e, socket.gaierror) for e in chain):
        return "host name not resolved (DNS)"
    if any(isinstance(e, ConnectionRefusedError) for e in chain):
        return "connection refused"
    if any(isinstance(e, ConnectionResetError) for e in chain):
        return "connection reset by the server"
    if "ProxyError" in names:
        return "the proxy refused or failed the connection"
    if names & {"ConnectTimeoutError", "ConnectTimeout"} or any(
        isinstance(e, TimeoutError) for e in chain
    ):
        return "timed out connecting"
    for e in chain:
        if isinstance(e, OSError) and e.strerror:
            return e.strerror.lower() if e.strerror[:1].isupper() else e.strerror
    return type(error).__name__
