"""Which ``Host`` headers the local servers answer: ``127.0.0.1:PORT`` or ``localhost:PORT`` only.

A web page can make a browser send requests to a loopback port under its own domain name once
that name resolves to 127.0.0.1 (DNS rebinding); the browser then sends ``Host: evil.example``.
Refusing every other Host keeps such a page away from the Bedrock double's control routes and
moto's ``/moto-api/`` (which holds the local IAM secret). The one owner of the rule: the double
(:mod:`local.bedrock_double.server`) and moto (:mod:`local.aws_server`) both call it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

LOOPBACK_NAMES = ("127.0.0.1", "localhost")
FORBIDDEN_BODY = b'{"message": "forbidden Host header; use 127.0.0.1:PORT or localhost:PORT"}'


def allowed_host(host: str | None, port: int, *, localhost_subdomains: bool = False) -> bool:
    """Whether a request's ``Host`` header names this loopback server (the port included).
    `localhost_subdomains` also admits ``NAME.localhost:PORT`` (S3 virtual-hosted buckets: a
    browser resolves ``*.localhost`` to loopback itself, so no foreign DNS name can be rebound to it).

    >>> allowed_host("127.0.0.1:8080", 8080), allowed_host("LOCALHOST:8080", 8080)
    (True, True)
    >>> allowed_host("evil.example:8080", 8080), allowed_host("127.0.0.1", 8080), allowed_host(None, 8080)
    (False, False, False)
    >>> allowed_host("127.0.0.1:8081", 8080), allowed_host("localhost.:8080", 8080)
    (False, False)
    >>> allowed_host("b.localhost:8080", 8080), allowed_host("b.localhost:8080", 8080, localhost_subdomains=True)
    (False, True)
    >>> allowed_host("evil.example/.localhost:8080", 8080, localhost_subdomains=True)
    False
    """
    if not host:
        return False
    name, _, port_text = host.strip().lower().rpartition(":")
    if port_text != str(port):
        return False
    if name in LOOPBACK_NAMES:
        return True
    label = name.removesuffix(".localhost")
    return localhost_subdomains and label != name and _is_dns_label_chain(label)


def _is_dns_label_chain(text: str) -> bool:
    """``a-b.c`` style: ASCII letters, digits, hyphens and dots only, no empty label.

    >>> _is_dns_label_chain("cdk-hnb659fds-assets-1.x"), _is_dns_label_chain("a..b"), _is_dns_label_chain("a/b")
    (True, False, False)
    """
    labels = text.split(".")
    return all(label and label.isascii() and label.replace("-", "").isalnum() for label in labels)


class HostCheckMiddleware:
    """A WSGI wrapper answering 403 to any request whose Host is not this loopback server's.

    `port` is a callable because the WSGI app exists before the server has picked a free port.
    """

    def __init__(self, app: Callable[..., Iterable[bytes]], port: Callable[[], int]) -> None:
        self.app = app
        self.port = port

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if not allowed_host(environ.get("HTTP_HOST"), self.port(), localhost_subdomains=True):
            start_response(
                "403 Forbidden",
                [("Content-Type", "application/json"), ("Content-Length", str(len(FORBIDDEN_BODY)))],
            )
            return [FORBIDDEN_BODY]
        return self.app(environ, start_response)
