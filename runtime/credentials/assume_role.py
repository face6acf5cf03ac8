"""Temporary credentials from STS, kept fresh by botocore (behind `Credentials.from_role` and
`Credentials.from_default_chain`).

botocore's ``RefreshableCredentials`` owns the refresh: every read asks it for the current
credentials, and it calls our `refresh` (one ``sts:AssumeRole``) when the advisory window before
expiry is reached (a failure there keeps the still-valid credentials) or, blocking every reader,
in the mandatory window. Its default windows are 15 and 10 minutes; a session shorter than
45 minutes gets them scaled down (a third and a sixth of the session), else every read of a
15-minute session would re-assume the role. botocore is imported when a role is first assumed.
"""

from __future__ import annotations

import re

from runtime.credentials.keys import DEFAULT_SESSION_NAME, DEFAULT_SESSION_SECONDS, Credentials, RefreshingCredentials
from runtime.errors import CredentialsError, aws_error_code

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from datetime import datetime
    from typing import Any

MIN_SESSION_SECONDS = 900  # STS's DurationSeconds range
MAX_SESSION_SECONDS = 43200
ADVISORY_SECONDS = 15 * 60  # botocore's defaults
MANDATORY_SECONDS = 10 * 60
_ROLE_ARN = re.compile(r"arn:aws[a-z-]*:iam::\d{12}:role/[\w+=,.@/-]{1,128}")
_SESSION_NAME = re.compile(r"[\w+=,.@-]{2,64}")


def refresh_windows(duration: int) -> tuple[int, int]:
    """botocore's (advisory, mandatory) refresh windows, scaled down for short sessions.

    >>> refresh_windows(3600), refresh_windows(900)
    ((900, 600), (300, 150))
    """
    return min(ADVISORY_SECONDS, duration // 3), min(MANDATORY_SECONDS, duration // 6)


def check_role_request(role_arn: str, session_name: str, duration: int) -> None:
    """Refuse a malformed role ARN, session name or duration before calling STS, one line each.

    >>> check_role_request("arn:aws:iam::111122223333:role/app", "portkey", 900)
    >>> check_role_request("arn:aws:iam::111122223333:role/app", "portkey", 50000)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    runtime.errors.CredentialsError: duration=50000 s is outside STS's 900-43200 s; ...
    """
    if not isinstance(role_arn, str) or not _ROLE_ARN.fullmatch(role_arn):
        raise CredentialsError(
            f"role_arn {role_arn!r} is not an IAM role ARN; use the stack's RoleArn output "
            "(arn:aws:iam::111122223333:role/portkey-bedrock-invoke)"
        )
    if not isinstance(session_name, str) or not _SESSION_NAME.fullmatch(session_name):
        raise CredentialsError(f"session_name {session_name!r} is invalid; use 2-64 letters, digits and +=,.@_-")
    if (
        isinstance(duration, bool)
        or not isinstance(duration, int)
        or not (MIN_SESSION_SECONDS <= duration <= MAX_SESSION_SECONDS)
    ):
        raise CredentialsError(
            f"duration={duration} s is outside STS's {MIN_SESSION_SECONDS}-{MAX_SESSION_SECONDS} s; "
            "pass seconds within it (and within the role's maximum_session_duration)"
        )


def assume_error(err: Exception, role_arn: str, duration: int) -> CredentialsError:
    """One line for a failed ``sts:AssumeRole`` (never the caller's keys).

    >>> class ClientError(Exception):
    ...     response = {"Error": {"Code": "AccessDenied", "Message": "not authorized"}}
    >>> print(assume_error(ClientError(), "arn:aws:iam::1:role/r", 3600))  # doctest: +ELLIPSIS
    cannot assume arn:aws:iam::1:role/r: AccessDenied (not authorized); the caller is not in the role's trust ...
    """
    code = aws_error_code(err)
    message = str(getattr(err, "response", {}).get("Error", {}).get("Message") or "").splitlines()[:1]
    detail = f"{code} ({message[0]})" if message and message[0] else code
    if "DurationSeconds" in detail or "MaxSessionDuration" in detail:
        fix = f"duration={duration} s exceeds the role's maximum; pass less or raise maximum_session_duration"
    elif code in ("AccessDenied", "AccessDeniedException"):
        fix = (
            "the caller is not in the role's trust policy (role_trust) or the external id differs; add it and redeploy"
        )
    elif code in ("InvalidClientTokenId", "UnrecognizedClientException", "ExpiredToken", "ExpiredTokenException"):
        fix = "the base credentials are invalid or expired; refresh them (secrets pull, aws sso login)"
    else:
        fix = "check the role ARN and the base credentials (python -m runtime doctor --auth role)"
    return CredentialsError(f"cannot assume {role_arn}: {detail}; {fix}")


_SESSION: list[Any] = []  # one botocore session per process: its loaders cache the STS model


def _sts_client(base: Credentials, region: str | None) -> Any:
    import botocore.session

    if not _SESSION:
        _SESSION.append(botocore.session.get_session())
    session = _SESSION[0]
    return session.create_client(
        "sts",
        region_name=region or base.region or session.get_config_variable("region") or "us-east-1",
        aws_access_key_id=base.access_key_id,
        aws_secret_access_key=base.secret_access_key,
        aws_session_token=base.session_token,
    )


def default_chain(region: str | None = None) -> RefreshingCredentials:
    """What botocore's default chain finds, or one line saying there is nothing."""
    import botocore.session

    session = botocore.session.Session()
    found = session.get_credentials()
    if found is None:
        raise CredentialsError(
            "no base AWS credentials: the default chain (environment, AWS_PROFILE/SSO, web identity, "
            "container or instance metadata) found none; set one, or pass source=Credentials.from_sops(...)"
        )
    return RefreshingCredentials(
        found,
        region=region or session.get_config_variable("region"),
        label=f"default chain ({getattr(found, 'method', 'unknown')})",
    )


def assume_role(
    role_arn: str,
    *,
    session_name: str = DEFAULT_SESSION_NAME,
    duration: int = DEFAULT_SESSION_SECONDS,
    source: Credentials | None = None,
    external_id: str | None = None,
    region: str | None = None,
    clock: Callable[[], datetime] | None = None,
) -> RefreshingCredentials:
    """The role's credentials (see `Credentials.from_role`)."""
    check_role_request(role_arn, session_name, duration)
    base = source if source is not None else default_chain(region)
    params: dict[str, Any] = {"RoleArn": role_arn, "RoleSessionName": session_name, "DurationSeconds": duration}
    if external_id:
        params["ExternalId"] = external_id
    region = region or base.region

    from botocore.credentials import RefreshableCredentials, create_assume_role_refresher
    from botocore.exceptions import BotoCoreError, ClientError
    from botocore.utils import parse_timestamp

    clients: dict[Credentials, Any] = {}

    def refresh() -> dict[str, Any]:
        # the client of the base's current value: a refreshing base (the default chain) may have moved on
        current = base.frozen()
        if current not in clients:
            clients.clear()
            clients[current] = _sts_client(current, region)
        client = clients[current]
        try:
            metadata: dict[str, Any] = create_assume_role_refresher(client, params)()
        except (ClientError, BotoCoreError) as err:
            raise assume_error(err, role_arn, duration) from None
        return metadata

    metadata = refresh()  # a trust, duration or base-credentials problem fails here, once
    advisory, mandatory = refresh_windows(duration)
    options: dict[str, Any] = {"time_fetcher": clock} if clock is not None else {}
    refreshable = RefreshableCredentials(
        access_key=metadata["access_key"],
        secret_key=metadata["secret_key"],
        token=metadata["token"],
        expiry_time=parse_timestamp(metadata["expiry_time"]),
        refresh_using=refresh,
        method="assume-role",
        advisory_timeout=advisory,
        mandatory_timeout=mandatory,
        **options,
    )
    return RefreshingCredentials(refreshable, region=region, label=f"role {role_arn}")
