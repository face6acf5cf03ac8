"""local.host_check: the Host rule of the local servers (issue 18, item 16)."""

import pytest

from local.host_check import HostCheckMiddleware, allowed_host


def app(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"secret data"]


def call(host):
    seen = []
    environ = {} if host is None else {"HTTP_HOST": host}
    body = b"".join(HostCheckMiddleware(app, lambda: 5000)(environ, lambda status, headers: seen.append(status)))
    return seen[0], body


@pytest.mark.parametrize(
    "host", ["localhost:5000", "127.0.0.1:5000", "cdk-hnb659fds-assets-123456789012-us-east-1.localhost:5000"]
)
def test_the_wsgi_wrapper_serves_loopback_hosts(host):
    assert call(host) == ("200 OK", b"secret data")


@pytest.mark.parametrize(
    "host", [None, "", "evil.example:5000", "localhost:5001", "localhost", "127.0.0.2:5000", "a..localhost:5000"]
)
def test_the_wsgi_wrapper_refuses_any_other_host(host):
    status, body = call(host)
    assert status == "403 Forbidden" and b"secret" not in body


def test_the_double_rule_admits_no_subdomain():
    assert allowed_host("localhost:9", 9) and not allowed_host("x.localhost:9", 9)
