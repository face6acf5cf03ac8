"""The HTTP server: Bedrock runtime's Converse / ConverseStream plus a control API.

Bedrock routes (what the Portkey gateway calls, model id URL-encoded):
  POST /model/{modelId}/converse          -> application/json
  POST /model/{modelId}/converse-stream   -> application/vnd.amazon.eventstream
Every route answers 403 unless the Host header is ``127.0.0.1:PORT`` or ``localhost:PORT`` (DNS
rebinding, :mod:`local.host_check`), 400 to a Content-Length that is not a number and 413 to a body
over ``max_body_bytes`` (default 1 MiB), before reading any of it.

Control routes (loopback only, unauthenticated, for tests):
  POST   /_double/faults     {"model": id|null, "region": source region|null, "status": 429|500|503|...|null,
                             "count": N|null, "latency_ms": M}  (status null + latency_ms: a slow upstream)
  GET    /_double/faults     DELETE /_double/faults
  GET    /_double/requests   DELETE /_double/requests
  POST   /_double/reset      (faults, requests, prompt cache, subscriptions; routing restarts)
  GET    /_double/routing    POST /_double/routing {"mode": "round-robin"|"random", "seed": N}
  GET    /_double/unsubscribed   POST {"model": base model id} (answer 403 Marketplace)
                             DELETE /_double/unsubscribed
  GET    /_double/quotas     POST /_double/quotas [{"region": r, "model": id|null,
                             "requests_per_minute": N, "tokens_per_minute": M, "window_seconds": S}]
                             DELETE /_double/quotas   (429 ThrottlingException per source region)
  POST   /_double/region     {"region": "us-east-1"|null}: bearer API keys for another region get 403
  GET    /_double/health

`Authorization: Bearer bedrock-api-key-…` (short-term API keys) is verified by
:mod:`local.bedrock_double.bearer`, which also requires bedrock:CallWithBearerToken.

Each profile call is routed to a destination drawn from the catalog's routing table for the
caller's source region (round-robin by default), and authorized against the caller's identity
policies (see :mod:`local.bedrock_double.model`).
"""

from __future__ import annotations

import contextlib
import json
import logging
import re
import socket
import threading
import time
import uuid
from collections.abc import Mapping
from dataclasses import asdict
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import unquote, urlsplit

from local.bedrock_double.bearer import authorize_bearer, endpoint_region, verify_bearer
from local.bedrock_double.errors import BedrockError
from local.bedrock_double.eventstream import CONTENT_TYPE as EVENTSTREAM
from local.bedrock_double.metrics import MetricsSink, MotoMetricsSink, NullMetricsSink, publish_call
from local.bedrock_double.model import (
    OPERATIONS,
    Router,
    authorize,
    check_request_rules,
    check_subscribed,
    route_request,
)
from local.bedrock_double.quotas import Quota, Quotas
from local.bedrock_double.reply import PromptCache, converse_reply, stream_events
from local.bedrock_double.sigv4 import parse_authorization, verify
from local.bedrock_double.state import DEFAULT_MAX_RECORDED, Fault, State, public_headers
from local.bedrock_double.stores import KeyStore, PolicyStore
from local.host_check import allowed_host
from runtime.catalog.model import Catalog, load_catalog
from runtime.errors import ConfigError

log = logging.getLogger(__name__)

_ROUTE = re.compile(r"^/model/(?P<model>[^/]+)/(?P<op>converse|converse-stream)$")
_LOOPBACK = ("127.0.0.1", "localhost")
DEFAULT_MAX_BODY_BYTES = 1024 * 1024  # Converse bodies here are prompts of a few KB


class Double:
    """Everything a request handler needs; shared by all handler threads."""

    def __init__(
        self,
        key_store: KeyStore,
        policy_store: PolicyStore,
        catalog: Catalog | None,
        stream_delay_ms: int = 2,
        router: Router | None = None,
        max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
        max_recorded: int = DEFAULT_MAX_RECORDED,
    ) -> None:
        self.key_store = key_store
        self.policy_store = policy_store
        self._catalog = catalog
        self.max_body_bytes = max_body_bytes
        self.state = State(max_recorded)
        self.cache = PromptCache()
        self.stream_delay = stream_delay_ms / 1000
        self.router = router or Router()
        self._unsubscribed: set[str] = set()
        self.quotas = Quotas()
        self.metrics: MetricsSink = NullMetricsSink()  # AWS/Bedrock metrics (local/bedrock_double/metrics.py)
        # the region this double answers for, when a test sets it (bearer keys of other regions: 403)
        self.region: str | None = None
        # the clock of the signature-age and session-expiry checks: real time plus a test's offset
        self.clock_offset = timedelta(0)

    def now(self) -> datetime:
        return datetime.now(UTC) + self.clock_offset

    @property
    def catalog(self) -> Catalog:
        """The catalog it was given, else the merged one (shipped + the overlay `catalog sync`
        wrote, re-read when that changes: a double in local AWS routes a model synced after it started)."""
        return self._catalog if self._catalog is not None else load_catalog()

    def unsubscribed(self) -> frozenset[str]:
        return frozenset(self._unsubscribed)

    def set_subscribed(self, model_id: str, subscribed: bool) -> None:
        (self._unsubscribed.discard if subscribed else self._unsubscribed.add)(model_id)

    def reset(self) -> None:
        self.state.clear_faults()
        self.state.clear_requests()
        self.cache.clear()
        self._unsubscribed.clear()
        self.quotas.clear()
        self.router = Router(self.router.mode, self.router.seed)
        self.clock_offset = timedelta(0)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "BedrockDouble"
    timeout = 30  # idle keep-alive connections end instead of holding a thread forever
    double: Double  # set on the subclass made by start_double

    def setup(self) -> None:
        super().setup()
        # Headers and body go out in separate writes; without NODELAY, Nagle plus the peer's
        # delayed ACK adds ~40 ms to every reply.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("%s " + format, self.address_string(), *args)

    # -- plumbing ---------------------------------------------------------------------------
    def _admitted(self) -> bool:
        """Host and Content-Length checks, before any route or body is read; False when refused
        (the reply says why and closes the connection: an unread body must not be parsed as the
        next request)."""
        refusal: tuple[int, str] | None = None
        lengths = self.headers.get_all("Content-Length") or []
        if not allowed_host(self.headers.get("Host"), self.server.server_port):  # type: ignore[attr-defined]
            refusal = (403, "forbidden Host header; use 127.0.0.1:PORT or localhost:PORT")
        elif len(set(lengths)) > 1 or not all(v.strip().isascii() and v.strip().isdigit() for v in lengths):
            refusal = (400, "Content-Length must be one non-negative integer")
        elif lengths and int(lengths[0]) > self.double.max_body_bytes:
            refusal = (413, f"request body over {self.double.max_body_bytes} bytes")
        if refusal is None:
            self._length = int(lengths[0]) if lengths else 0
            return True
        self._send_json(refusal[0], {"message": refusal[1]}, {"Connection": "close"})
        return False

    def _body(self) -> bytes:
        length = getattr(self, "_length", 0)
        return self.rfile.read(length) if length > 0 else b""

    def _send_json(self, status: int, payload: Any, headers: Mapping[str, str] | None = None) -> None:
        raw = json.dumps(payload).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(raw)))
        self.send_header("x-amzn-RequestId", str(uuid.uuid4()))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(raw)

    def _send_error(self, error: BedrockError) -> None:
        self._send_json(error.status, error.body(), {"x-amzn-ErrorType": error.error_type})

    # -- routing ----------------------------------------------------------------------------
    def do_GET(self) -> None:
        if self._admitted():
            self._control("GET")

    def do_DELETE(self) -> None:
        if self._admitted():
            self._control("DELETE")

    def do_POST(self) -> None:
        if not self._admitted():
            return
        path = urlsplit(self.path).path
        if path.startswith("/_double/"):
            self._control("POST")
            return
        match = _ROUTE.match(path)
        body = self._body()
        if match is None:
            self._send_error(BedrockError(404, "UnknownOperationException", f"Unknown operation {path}"))
            return
        self._bedrock(unquote(match["model"]), match["op"], body)

    def _control(self, method: str) -> None:
        state = self.double.state
        path = urlsplit(self.path).path
        body = self._body() if method == "POST" else b""
        try:
            if (method, path) == ("POST", "/_double/faults"):
                data = json.loads(body or b"{}")
                for item in data if isinstance(data, list) else [data]:
                    if not isinstance(item, dict):
                        raise ConfigError("a fault is a JSON object")
                    state.add_fault(Fault.from_json(item))
                self._send_json(201, {"faults": state.faults()})
            elif (method, path) == ("GET", "/_double/faults"):
                self._send_json(200, {"faults": state.faults()})
            elif (method, path) == ("DELETE", "/_double/faults"):
                state.clear_faults()
                self._send_json(200, {"faults": []})
            elif (method, path) == ("GET", "/_double/requests"):
                self._send_json(200, {"requests": state.requests()})
            elif (method, path) == ("DELETE", "/_double/requests"):
                state.clear_requests()
                self._send_json(200, {"requests": []})
            elif (method, path) == ("POST", "/_double/reset"):
                self.double.reset()
                self._send_json(200, {"reset": True})
            elif (method, path) == ("GET", "/_double/routing"):
                self._send_json(200, self.double.router.describe())
            elif (method, path) == ("POST", "/_double/routing"):
                data = json.loads(body or b"{}")
                if not isinstance(data, dict) or not isinstance(data.get("seed", 0), int):
                    raise ConfigError('routing is {"mode": "round-robin"|"random", "seed": integer}')
                self.double.router = Router(str(data.get("mode", "round-robin")), int(data.get("seed", 0)))
                self._send_json(200, self.double.router.describe())
            elif (method, path) == ("GET", "/_double/unsubscribed"):
                self._send_json(200, {"unsubscribed": sorted(self.double.unsubscribed())})
            elif (method, path) == ("POST", "/_double/unsubscribed"):
                data = json.loads(body or b"{}")
                model = data.get("model") if isinstance(data, dict) else None
                if not isinstance(model, str) or self.double.catalog.lookup_id(model) is None:
                    raise ConfigError('unsubscribed needs {"model": a catalog foundation-model id}')
                self.double.set_subscribed(model, False)
                self._send_json(201, {"unsubscribed": sorted(self.double.unsubscribed())})
            elif (method, path) == ("DELETE", "/_double/unsubscribed"):
                for model in self.double.unsubscribed():
                    self.double.set_subscribed(model, True)
                self._send_json(200, {"unsubscribed": []})
            elif (method, path) == ("GET", "/_double/quotas"):
                self._send_json(200, self.double.quotas.describe())
            elif (method, path) == ("POST", "/_double/quotas"):
                data = json.loads(body or b"[]")
                items = data if isinstance(data, list) else [data]
                if not all(isinstance(item, dict) for item in items):
                    raise ConfigError("a quota is a JSON object")
                self.double.quotas.set([Quota.from_json(item) for item in items])
                self._send_json(201, self.double.quotas.describe())
            elif (method, path) == ("DELETE", "/_double/quotas"):
                self.double.quotas.clear()
                self._send_json(200, self.double.quotas.describe())
            elif (method, path) == ("POST", "/_double/region"):
                data = json.loads(body or b"{}")
                region = data.get("region") if isinstance(data, dict) else None
                if region is not None and not isinstance(region, str):
                    raise ConfigError('region is {"region": "us-east-1"} or {"region": null}')
                self.double.region = region
                self._send_json(200, {"region": region})
            elif (method, path) == ("POST", "/_double/clock"):
                data = json.loads(body or b"{}")
                offset = data.get("offset_seconds") if isinstance(data, dict) else None
                if isinstance(offset, bool) or not isinstance(offset, int | float):
                    raise ConfigError('clock is {"offset_seconds": number} (added to real time; 0 resets)')
                self.double.clock_offset = timedelta(seconds=offset)
                self._send_json(200, {"offset_seconds": offset})
            elif (method, path) == ("GET", "/_double/health"):
                self._send_json(200, {"status": "ok"})
            else:
                self._send_json(404, {"message": f"no control route {method} {path}"})
        except (ValueError, ConfigError) as exc:
            self._send_json(400, {"message": str(exc)})

    # -- Bedrock ----------------------------------------------------------------------------
    def _bedrock(self, model_id: str, op: str, body: bytes) -> None:
        started = time.monotonic()
        headers = list(self.headers.items())
        entry: dict[str, Any] = {
            "time": datetime.now(UTC).isoformat(),
            "method": "POST",
            "path": self.path,
            "model_id": model_id,
            "operation": OPERATIONS[op],
            "headers": public_headers(headers),
            "access_key_id": None,
            "region": None,
            "signature_valid": False,
            "signed_host": None,
            "body": None,
            "status": None,
            "error_type": None,
            "fault": None,
        }
        try:
            entry["body"] = json.loads(body) if body else None
        except ValueError:
            entry["body"] = body.decode("utf-8", "replace")
        with contextlib.suppress(BedrockError):
            entry["access_key_id"] = parse_authorization(self.headers.get("Authorization", "")).access_key_id
        double = self.double
        authorization = self.headers.get("Authorization", "")
        bearer = authorization.startswith("Bearer ")
        entry["auth_scheme"] = "bearer" if bearer else "sigv4" if authorization.startswith("AWS4-") else None
        try:
            if bearer:
                endpoint = endpoint_region(self.headers.get("Host", "")) or double.region
                caller = verify_bearer(authorization, key_store=double.key_store, endpoint=endpoint, now=double.now())
                entry["access_key_id"] = caller.access_key_id
            else:
                caller = verify(
                    method="POST",
                    path=self.path,
                    headers=headers,
                    body=body,
                    key_store=double.key_store,
                    now=double.now(),
                )
            entry.update(signature_valid=True, signed_host=caller.signed_host, region=caller.region)
            entry["user_arn"] = caller.key.user_arn
            entry["secret_in_headers"] = any(caller.key.secret in value for _, value in headers)
            if bearer:
                authorize_bearer(caller, double.policy_store)
            if not isinstance(entry["body"], dict):
                raise BedrockError(
                    400, "ValidationException", "Malformed input request, please reformat your input and try again."
                )
            target = route_request(model_id, caller.region, caller.key.account, op, double.catalog, double.router)
            entry["destination_region"] = target.destination_region
            authorize(caller, target, double.policy_store)
            check_subscribed(target, double.unsubscribed())
            check_request_rules(double.catalog, model_id, entry["body"])
            double.quotas.admit(caller.region, model_id, entry["body"])
            fault = double.state.take_fault(model_id, caller.region)
            if fault is not None:
                entry["fault"] = asdict(fault)
                time.sleep(fault.latency_ms / 1000)
                if fault.status is not None:
                    raise BedrockError.fault(fault.status)
            latency = int((time.monotonic() - started) * 1000)
            reply = converse_reply(model_id, entry["body"], double.cache, latency)
            entry["reply_text"] = reply["output"]["message"]["content"][0]["text"]
            entry["usage"] = reply.get("usage")
            self._record(entry, started, 200)
            if op == "converse":
                self._send_json(200, reply)
            else:
                self._stream(reply)
        except BedrockError as error:
            self._record(entry, started, error.status, error.error_type)
            self._send_error(error)

    def _record(self, entry: dict[str, Any], started: float, status: int, error_type: str | None = None) -> None:
        # Recorded before the reply is written, so a client that has read the reply sees it.
        entry.update(status=status, error_type=error_type, elapsed_ms=round((time.monotonic() - started) * 1000, 1))
        self.double.state.record(entry)
        account = entry["user_arn"].split(":")[4] if entry.get("user_arn") else None
        publish_call(self.double.metrics, entry, account)

    def _stream(self, reply: Mapping[str, Any]) -> None:
        self.send_response(200)
        self.send_header("Content-Type", EVENTSTREAM)
        self.send_header("Transfer-Encoding", "chunked")
        self.send_header("x-amzn-RequestId", str(uuid.uuid4()))
        self.end_headers()
        # One HTTP chunk per event message, written whole: the gateway's event-stream reader
        # reads each message's length from the first 4 bytes of a buffer it received.
        for event in stream_events(reply):
            self.wfile.write(b"%x\r\n%s\r\n" % (len(event), event))
            if self.double.stream_delay:
                time.sleep(self.double.stream_delay)
        self.wfile.write(b"0\r\n\r\n")


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    # the default backlog of 5 overflows when 50 load-test connections open at once
    request_queue_size = 128

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client (the gateway) going away mid-connection is normal here, not worth a traceback.
        import sys

        if isinstance(sys.exc_info()[1], ConnectionError):
            log.debug("connection from %s dropped", client_address)
            return
        super().handle_error(request, client_address)


class DoubleServer:
    """A running double: `.url`, `.port`, the shared state, and `.stop()`."""

    def __init__(self, httpd: _Server, thread: threading.Thread, double: Double) -> None:
        self._httpd = httpd
        self._thread = thread
        self.double = double
        self.host = str(httpd.server_address[0])
        self.port = int(httpd.server_address[1])
        self.url = f"http://{self.host}:{self.port}"

    def __repr__(self) -> str:
        return f"DoubleServer({self.url!r})"

    def __enter__(self) -> DoubleServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def add_fault(
        self,
        status: int | None = None,
        *,
        model: str | None = None,
        count: int | None = 1,
        latency_ms: int = 0,
        region: str | None = None,
    ) -> None:
        self.double.state.add_fault(
            Fault.from_json(
                {"model": model, "status": status, "count": count, "latency_ms": latency_ms, "region": region}
            )
        )

    def set_quotas(self, *quotas: Quota) -> None:
        self.double.quotas.set(list(quotas))

    def requests(self) -> list[dict[str, Any]]:
        return self.double.state.requests()

    def clear_requests(self) -> None:
        self.double.state.clear_requests()

    def reset(self) -> None:
        self.double.reset()

    def set_routing(self, mode: str = "round-robin", seed: int = 0) -> None:
        self.double.router = Router(mode, seed)

    def set_subscribed(self, model_id: str, subscribed: bool) -> None:
        self.double.set_subscribed(model_id, subscribed)

    def stop(self) -> None:
        if self._thread.is_alive():
            self._httpd.shutdown()
            self._thread.join(timeout=10)
        self._httpd.server_close()


def start_double(
    host: str = "127.0.0.1",
    port: int = 0,
    *,
    key_store: KeyStore | None = None,
    policy_store: PolicyStore | None = None,
    catalog: Catalog | None = None,
    stream_delay_ms: int = 2,
    routing: str = "round-robin",
    seed: int = 0,
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
    max_recorded: int = DEFAULT_MAX_RECORDED,
) -> DoubleServer:
    """Serve the double on `host:port` (0 = a free port) in a background thread.

    With no stores given it reads moto's IAM backend *in this process* (run it inside the moto
    server process). Only loopback hosts are accepted. `routing` / `seed`: how profile calls pick
    their destination among the catalog's routes (``round-robin`` or seeded ``random``).
    `max_body_bytes`: larger bodies get 413 unread; `max_recorded`: requests kept for
    ``/_double/requests`` (the oldest go first).
    """
    if host not in _LOOPBACK:
        raise ConfigError(f"the Bedrock double binds to loopback only, not {host!r}; use 127.0.0.1")
    if key_store is None or policy_store is None:
        from local.bedrock_double.stores import MotoKeyStore, MotoPolicyStore

        key_store = key_store or MotoKeyStore()
        policy_store = policy_store or MotoPolicyStore()
        metrics: MetricsSink = MotoMetricsSink()  # inside local AWS: publish into its CloudWatch
    else:
        metrics = NullMetricsSink()
    double = Double(key_store, policy_store, catalog, stream_delay_ms, Router(routing, seed),
                    max_body_bytes, max_recorded)  # fmt: skip
    double.metrics = metrics
    handler = type("DoubleHandler", (_Handler,), {"double": double})
    httpd = _Server((host, port), handler)
    thread = threading.Thread(
        target=httpd.serve_forever,
        kwargs={"poll_interval": 0.05},
        name=f"bedrock-double-{httpd.server_address[1]}",
        daemon=True,
    )
    thread.start()
    return DoubleServer(httpd, thread, double)
