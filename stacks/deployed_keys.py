"""The deployed stack is the source of truth for its access-key serials, on every deploy path.

``AccessKeySerial`` (a stack output) names the active key; the template's other
``AWS::IAM::AccessKey`` resources are keys kept alive by a rotation that has not finished. The
CDK entry point (``app.py``, what ``npx cdk synth/diff/deploy`` runs), ``python -m stacks.deploy``
and ``python -m stacks.rotate`` all read them here, so a plain ``npx cdk deploy`` after a rotation
keeps the live key. Only ``-c access_key_serial=N`` (what ``stacks.rotate`` passes) changes it.

The lookup costs two CloudFormation calls (DescribeStacks, GetTemplate; STS GetCallerIdentity
only when the stack is not found and the CLI names an account; STS AssumeRole of the CDK
bootstrap's lookup role only when the app's own credentials are denied), with short timeouts and
no retry storm. The CDK CLI gives the app ``CDK_DEFAULT_ACCOUNT``/``CDK_DEFAULT_REGION`` but neither its
credentials nor ``--profile``, hence :func:`serial_context`'s rules.
"""

from __future__ import annotations

import _thread
import json
import os
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from runtime.constants import (
    ENV_AWS_ACCESS_KEY_ID,
    ENV_AWS_ENDPOINT_URL,
    ENV_AWS_PROFILE,
    ENV_AWS_SECRET_ACCESS_KEY,
    ENV_AWS_SESSION_TOKEN,
    ENV_CDK_DEFAULT_ACCOUNT,
    OUTPUT_ACCESS_KEY_SERIAL,
    OUTPUT_CONFIG,
)
from runtime.errors import PortkeyBedrockError
from stacks.config import CTX_ACCESS_KEY_SERIAL, CTX_RETAINED_ACCESS_KEY_SERIAL
from stacks.deployed_config import DeployedConfig

# How the CDK CLI hands its context (cdk.json, cdk.context.json, -c) to the app: JSON in this
# variable, or, when large, a file named by the second one (aws-cdk-lib cx-api).
ENV_CDK_CONTEXT_JSON = "CDK_CONTEXT_JSON"
ENV_CDK_CONTEXT_OVERFLOW = "CONTEXT_OVERFLOW_LOCATION_ENV"
CONNECT_TIMEOUT_S = 3
READ_TIMEOUT_S = 10
MAX_ATTEMPTS = 2
_GONE = ("DELETE_COMPLETE", "REVIEW_IN_PROGRESS")
ACCESS_DENIED_CODES = ("AccessDenied", "AccessDeniedException")


class DeployedKeysUnreadable(PortkeyBedrockError):
    """The deployed serials are needed (a deploy can follow) but could not be read."""


@dataclass(frozen=True)
class Deployed:
    """What is deployed now: the outputs, the active key's serial and any retained key serials."""

    outputs: dict[str, str]
    active_serial: int | None
    retained_serials: tuple[int, ...] = ()
    account: str | None = None
    # the deployed template: an older stack's settings are derived from it (stacks/deployed_config.py)
    template_text: str = field(default="", compare=False, repr=False)

    @property
    def config(self) -> DeployedConfig | None:
        """The recorded settings (the ``Config`` output); for a stack deployed before that output
        existed, what its other outputs and template say (``derived``); None when neither."""
        from stacks.config import cdk_json_context

        recorded = DeployedConfig.parse(self.outputs.get(OUTPUT_CONFIG))
        if recorded is not None or not self.outputs:
            return recorded
        return DeployedConfig.derive(self.outputs, self.template_text, cdk_json_context())


def access_key_serials(template: Mapping[str, Any]) -> list[int]:
    """Serials of the template's ``AWS::IAM::AccessKey`` resources, sorted.

    >>> access_key_serials({"Resources": {"A": {"Type": "AWS::IAM::AccessKey", "Properties": {"Serial": 2}},
    ...     "B": {"Type": "AWS::IAM::AccessKey", "Properties": {"Serial": 1}}, "U": {"Type": "AWS::IAM::User"}}})
    [1, 2]
    """
    serials = []
    for resource in template.get("Resources", {}).values():
        if resource.get("Type") == "AWS::IAM::AccessKey":
            serial = resource.get("Properties", {}).get("Serial")
            if isinstance(serial, int) or (isinstance(serial, str) and serial.isdigit()):
                serials.append(int(serial))
    return sorted(serials)


def stack_account(stack_id: str) -> str | None:
    """The account of a CloudFormation stack ARN.

    >>> stack_account("arn:aws:cloudformation:us-east-1:123456789012:stack/S/abc")
    '123456789012'
    >>> stack_account("S") is None
    True
    """
    parts = stack_id.split(":")
    return parts[4] if len(parts) > 5 and parts[4].isdigit() else None


def read_deployed(cfn: Any, stack: str) -> Deployed | None:
    """The deployed stack's outputs and key serials from a CloudFormation client; None when the
    stack does not exist. Other errors (credentials, AccessDenied, network) propagate."""
    from botocore.exceptions import ClientError

    try:
        described = cfn.describe_stacks(StackName=stack)["Stacks"][0]
    except ClientError as err:
        if "does not exist" in str(err):
            return None
        raise
    if described.get("StackStatus") in _GONE:
        return None
    outputs = {o["OutputKey"]: o["OutputValue"] for o in described.get("Outputs") or []}
    body = cfn.get_template(StackName=stack)["TemplateBody"]
    try:
        template = json.loads(body) if isinstance(body, str) else body
    except ValueError:
        raise DeployedKeysUnreadable(
            f"the deployed template of {stack} is not JSON (not deployed by the CDK?); "
            f"pass -c {CTX_ACCESS_KEY_SERIAL}=N explicitly"
        ) from None
    serial_text = outputs.get(OUTPUT_ACCESS_KEY_SERIAL, "")
    active = int(serial_text) if serial_text.isdigit() else None
    retained = tuple(s for s in access_key_serials(template) if s != active)
    account = stack_account(str(described.get("StackId", "")))
    text = body if isinstance(body, str) else json.dumps(body)
    return Deployed(
        outputs=outputs, active_serial=active, retained_serials=retained, account=account, template_text=text
    )


def deploy_context(given: Mapping[str, str], deployed: Deployed | None) -> dict[str, str]:
    """The context for a deploy: `given`, plus the deployed serials unless a serial is given.

    >>> deploy_context({}, Deployed({}, 3, (2,)))
    {'access_key_serial': '3', 'retained_access_key_serial': '2'}
    >>> deploy_context({"access_key_serial": "4"}, Deployed({}, 3, (2,)))
    {'access_key_serial': '4'}
    >>> deploy_context({"policy_mode": "full"}, None)
    {'policy_mode': 'full'}
    """
    context = dict(given)
    if deployed is None or deployed.active_serial is None or serial_is_given(context):
        return context
    context[CTX_ACCESS_KEY_SERIAL] = str(deployed.active_serial)
    if deployed.retained_serials and CTX_RETAINED_ACCESS_KEY_SERIAL not in context:
        context[CTX_RETAINED_ACCESS_KEY_SERIAL] = str(max(deployed.retained_serials))
    return context


def serial_is_given(context: Mapping[str, object]) -> bool:
    """Whether the context asks for a serial explicitly (a null or blank value does not).

    >>> serial_is_given({"access_key_serial": "2"}), serial_is_given({"access_key_serial": None}), serial_is_given({})
    (True, False, False)
    """
    value = context.get(CTX_ACCESS_KEY_SERIAL)
    return value is not None and str(value).strip().lower() not in ("", "none", "null")


def cli_context(environ: Mapping[str, str]) -> dict[str, Any]:
    """The context the CDK CLI hands to the app (cdk.json + cdk.context.json + ``-c``); {} when
    the app is not run by the CLI.

    >>> cli_context({"CDK_CONTEXT_JSON": '{"access_key_serial": "2"}'})
    {'access_key_serial': '2'}
    >>> cli_context({})
    {}
    """
    context: dict[str, Any] = {}
    text = environ.get(ENV_CDK_CONTEXT_JSON)
    if text:
        context.update(_json_object(text, ENV_CDK_CONTEXT_JSON))
    overflow = environ.get(ENV_CDK_CONTEXT_OVERFLOW)
    if overflow:
        try:
            with open(overflow, encoding="utf-8") as handle:
                context.update(_json_object(handle.read(), overflow))
        except OSError as err:
            raise PortkeyBedrockError(f"cannot read the CDK CLI's context file {overflow}: {err.strerror}") from None
    return context


def _json_object(text: str, where: str) -> dict[str, Any]:
    try:
        value = json.loads(text)
    except ValueError:
        value = None
    if not isinstance(value, dict):
        raise PortkeyBedrockError(f"the CDK CLI's context in {where} is not a JSON object; run the app with npx cdk")
    return value


def describe_failure(err: BaseException) -> str:
    """A short, secret-free name for a lookup failure: the AWS error code, or the exception type.

    >>> from botocore.exceptions import ClientError
    >>> describe_failure(ClientError({"Error": {"Code": "AccessDenied", "Message": "no"}}, "DescribeStacks"))
    'AccessDenied'
    >>> from botocore.exceptions import NoCredentialsError
    >>> describe_failure(NoCredentialsError())
    'no AWS credentials in the app process'
    """
    from botocore.exceptions import NoCredentialsError, ProfileNotFound

    if isinstance(err, NoCredentialsError):
        return "no AWS credentials in the app process"
    if isinstance(err, ProfileNotFound):
        return f"AWS profile {getattr(err, 'kwargs', {}).get('profile', '?')!r} not found"
    response = getattr(err, "response", None)
    if isinstance(response, dict):
        code = response.get("Error", {}).get("Code")
        if code:
            return str(code)
    return type(err).__name__


Lookup = Callable[[], Deployed | None]
Note = Callable[[str], None]


def serial_context(
    stack: str,
    region: str,
    given: Mapping[str, object],
    lookup: Lookup,
    *,
    account: str | None,
    caller_account: Callable[[], str] | None = None,
    cli_has_credentials: bool,
    note: Note | None = None,
    settle: Callable[[Deployed | None], dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """The serial context to synthesize with (the app's defaults; the CLI's ``-c`` still wins),
    or, with `settle`, what `settle` makes of the deployed stack (app.py: serials and settings).

    - a serial given explicitly (``-c access_key_serial=N``): no lookup, {};
    - the stack is deployed: its active (and retained) serials;
    - the stack does not exist: {} (a new stack starts at serial 1);
    - the lookup fails and the CLI has credentials (``CDK_DEFAULT_ACCOUNT`` set, so a deploy can
      follow): :class:`DeployedKeysUnreadable`, one line naming the problem and the fix;
    - the lookup fails and nobody has credentials (an offline synth): {} and one `note`.

    The stack or caller must belong to `account` (the CLI's) when it is known: credentials of
    another account would read another account's stack, or none.
    """
    from botocore.exceptions import BotoCoreError, ClientError

    if settle is None and serial_is_given(given):
        return {}
    try:
        deployed = lookup()
        found_account = deployed.account if deployed is not None else None
        if deployed is None and account and cli_has_credentials and caller_account is not None:
            found_account = caller_account()
    except (BotoCoreError, ClientError) as err:
        why = describe_failure(err)
        if cli_has_credentials:
            raise DeployedKeysUnreadable(
                f"cannot read the deployed access-key serial of {stack} in {region} ({why}); the CDK CLI "
                f"does not pass its credentials or --profile to the app: export {ENV_AWS_PROFILE}=<name> as "
                f"well as --profile, or pass -c {CTX_ACCESS_KEY_SERIAL}=N explicitly"
            ) from None
        if note is not None:
            note(
                f"note: {stack} not looked up ({why}); synthesizing with {CTX_ACCESS_KEY_SERIAL}=1 "
                f"(a deploy reads the deployed serial)"
            )
        return {}
    if account and found_account and found_account != account:
        raise DeployedKeysUnreadable(
            f"the app's AWS credentials are for account {found_account}, the CDK CLI deploys into {account}; "
            f"export {ENV_AWS_PROFILE}=<name> as well as --profile, or pass -c {CTX_ACCESS_KEY_SERIAL}=N explicitly"
        )
    return settle(deployed) if settle is not None else deploy_context({}, deployed)


def boto_clients(region: str, environ: Mapping[str, str]) -> Callable[[str], Any]:
    """A client factory for the lookup, with botocore's precedence: keys in `environ`, else its
    ``AWS_PROFILE``, else the default chain; ``AWS_ENDPOINT_URL`` (local AWS); short timeouts, at
    most two attempts. The session is made on the first call, so a bad profile is a lookup failure."""
    import boto3
    from botocore.config import Config

    config = Config(
        connect_timeout=CONNECT_TIMEOUT_S,
        read_timeout=READ_TIMEOUT_S,
        retries={"max_attempts": MAX_ATTEMPTS, "mode": "standard"},
    )
    endpoint = environ.get(ENV_AWS_ENDPOINT_URL) or None
    sessions: list[Any] = []

    def client(service: str) -> Any:
        if not sessions:
            key = environ.get(ENV_AWS_ACCESS_KEY_ID)
            if key:
                sessions.append(
                    boto3.Session(
                        aws_access_key_id=key,
                        aws_secret_access_key=environ.get(ENV_AWS_SECRET_ACCESS_KEY),
                        aws_session_token=environ.get(ENV_AWS_SESSION_TOKEN),
                        region_name=region,
                    )
                )
            else:
                sessions.append(boto3.Session(profile_name=environ.get(ENV_AWS_PROFILE) or None, region_name=region))
        return sessions[0].client(service, endpoint_url=endpoint, config=config)

    return client


def lookup_role_arn(account: str, region: str) -> str:
    """The CDK bootstrap's read-only lookup role (what ``cdk`` context lookups assume).

    >>> lookup_role_arn("123456789012", "eu-west-1")
    'arn:aws:iam::123456789012:role/cdk-hnb659fds-lookup-role-123456789012-eu-west-1'
    """
    from stacks.cdk_cli import BOOTSTRAP_QUALIFIER

    partition = "aws-cn" if region.startswith("cn-") else "aws-us-gov" if region.startswith("us-gov-") else "aws"
    return f"arn:{partition}:iam::{account}:role/cdk-{BOOTSTRAP_QUALIFIER}-lookup-role-{account}-{region}"


def read_with_lookup_role(
    clients: Callable[[str], Any],
    stack: str,
    account: str | None,
    assume: Callable[[str], Callable[[str], Any]],
    region: str,
) -> Deployed | None:
    """:func:`read_deployed` with the app's credentials; when they are denied (a CI principal that
    may only assume the CDK bootstrap roles), once more through the bootstrap's lookup role. A
    failure of that second try reports the first error."""
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        return read_deployed(clients("cloudformation"), stack)
    except ClientError as err:
        if not account or describe_failure(err) not in ACCESS_DENIED_CODES:
            raise
        try:
            return read_deployed(assume(lookup_role_arn(account, region))("cloudformation"), stack)
        except (BotoCoreError, ClientError):
            raise err from None


def app_serial_context(
    stack: str,
    region: str,
    account: str | None,
    given: Mapping[str, object],
    environ: Mapping[str, str] | None = None,
    settle: Callable[[Deployed | None], dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """What ``app.py`` feeds to :func:`stacks.app.build_app`: the deployed serials (or what
    `settle` makes of the deployed stack), looked up with boto3 in the app's own environment
    (see :func:`serial_context`)."""
    env = os.environ if environ is None else environ
    if settle is None and serial_is_given(given):
        return {}
    clients = boto_clients(region, env)

    def assume(role_arn: str) -> Callable[[str], Any]:
        answer = clients("sts").assume_role(RoleArn=role_arn, RoleSessionName="portkey-bedrock-serial-lookup")
        creds = answer["Credentials"]
        role_env = {
            ENV_AWS_ACCESS_KEY_ID: creds["AccessKeyId"],
            ENV_AWS_SECRET_ACCESS_KEY: creds["SecretAccessKey"],
            ENV_AWS_SESSION_TOKEN: creds["SessionToken"],
            ENV_AWS_ENDPOINT_URL: env.get(ENV_AWS_ENDPOINT_URL, ""),
        }
        return boto_clients(region, role_env)

    return serial_context(
        stack,
        region,
        given,
        lambda: read_with_lookup_role(clients, stack, account, assume, region),
        account=account,
        caller_account=lambda: str(clients("sts").get_caller_identity()["Account"]),
        cli_has_credentials=bool(env.get(ENV_CDK_DEFAULT_ACCOUNT)),
        note=lambda line: print(line, file=sys.stderr),
        settle=settle,
    )


def explicit_settings(given: Mapping[str, Any], cdk_json: Mapping[str, Any]) -> dict[str, Any]:
    """The settings the CLI's context holds that are not cdk.json's: the ``-c`` values (and
    cdk.context.json's). A ``-c`` equal to cdk.json's value cannot be told apart from it.

    >>> explicit_settings({"api_keys": "short-term", "policy_mode": "least-privilege", "@x": 1},
    ...                   {"api_keys": "off", "policy_mode": "least-privilege"})
    {'api_keys': 'short-term'}
    """
    from stacks.deployed_config import _same, setting_keys

    keys = setting_keys()
    return {k: v for k, v in given.items() if k in keys and (k not in cdk_json or not _same(v, cdk_json[k]))}


def entry_context(environ: Mapping[str, str]) -> dict[str, Any]:
    """What ``app.py`` passes to :func:`stacks.app.build_app` over the CLI's context: the deployed
    stack's access-key serials and its settings as the baseline (stacks/deployed_config.py), for
    the stack name, region and account of the config. The only AWS call of the app; build_app
    stays pure. A bad context value, an unknown key or a refused widening fails here, in one line.
    Nothing when ``python -m stacks.deploy`` / ``stacks.rotate`` resolved the context already."""
    from stacks.config import CTX_ALLOW_WIDENING, StackConfig, cdk_json_context
    from stacks.context_keys import check_context_keys
    from stacks.deployed_config import CTX_RESOLVED, is_true, resolve_settings

    given = cli_context(environ)
    check_context_keys(given)
    if is_true(given.get(CTX_RESOLVED)):
        return {}
    cdk_json = cdk_json_context()
    config = StackConfig.from_mapping({**cdk_json, **given}, environ=environ)
    explicit = explicit_settings(given, cdk_json)

    def settle(deployed: Deployed | None) -> dict[str, Any]:
        context: dict[str, Any] = {} if serial_is_given(given) else deploy_context({}, deployed)
        context.update(
            resolve_settings(
                config.stack_name,
                explicit,
                cdk_json,
                deployed,
                environ=environ,
                allow_widening=is_true(given.get(CTX_ALLOW_WIDENING)),
                flag=f"-c {CTX_ALLOW_WIDENING}=true",
                say=lambda line: print(line, file=sys.stderr),
            )
        )
        return context

    return app_serial_context(config.stack_name, config.region, config.account, given, environ, settle=settle)


class BackgroundLookup:
    """:func:`entry_context` on a helper thread, so the lookup overlaps aws-cdk-lib's import
    (``_thread``: importing ``threading`` costs more than it saves here)."""

    def __init__(self, environ: Mapping[str, str]) -> None:
        self._done = _thread.allocate_lock()
        self._done.acquire()
        self._value: dict[str, Any] = {}
        self._error: BaseException | None = None
        _thread.start_new_thread(self._run, (dict(environ),))

    def _run(self, environ: dict[str, str]) -> None:
        try:
            self._value = entry_context(environ)
        except BaseException as err:  # handed to the main thread by result()
            self._error = err
        finally:
            self._done.release()

    def result(self) -> dict[str, Any]:
        with self._done:
            if self._error is not None:
                raise self._error
            return self._value
