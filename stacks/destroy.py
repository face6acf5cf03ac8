"""python -m stacks.destroy: delete the stack, and optionally schedule its retained KMS key's deletion.

    python -m stacks.destroy --force                              # like cdk destroy: the KMS key stays
    python -m stacks.destroy --force --schedule-key-deletion      # ... and the key is deleted in 30 days
    python -m stacks.destroy --schedule-key-deletion --key-arn ARN --pending-days 7   # a key left earlier

The stack's KMS key is retained on delete (aws-cdk-lib's default for keys): SOPS files encrypted
to it must stay decryptable until you have re-encrypted them. So every `cdk destroy` leaves one
key behind, billed monthly. ``--schedule-key-deletion`` calls KMS ScheduleKeyDeletion with a
pending window (7-30 days, default 30); ``aws kms cancel-key-deletion`` undoes it within the window.
Exit 1 when AWS refuses, 2 on bad input; one line each, never a secret.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from runtime.constants import DEFAULT_STACK_NAME, OUTPUT_KMS_KEY_ARN
from runtime.errors import PortkeyBedrockError
from stacks.cdk_cli import Target
from stacks.deploy import LocalTarget, add_location_arguments, read_deployed, resolve_target

MIN_PENDING_DAYS = 7
MAX_PENDING_DAYS = 30
DEFAULT_PENDING_DAYS = 30
WAIT = {"Delay": 2, "MaxAttempts": 450}


class DestroyError(PortkeyBedrockError):
    """Nothing to destroy, or a bad combination of options."""


def delete_stack(target: Target, stack: str) -> None:
    """Delete `stack` with CloudFormation and wait until it is gone (no synth needed)."""
    cfn = target.client("cloudformation")
    cfn.delete_stack(StackName=stack)
    cfn.get_waiter("stack_delete_complete").wait(StackName=stack, WaiterConfig=WAIT)


def key_region_and_id(key: str, default_region: str) -> tuple[str, str]:
    """(region, key id) of a key ARN; a bare key id stays in `default_region`.

    >>> key_region_and_id("arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab", "us-east-1")
    ('eu-west-1', '1234abcd-12ab')
    >>> key_region_and_id("1234abcd-12ab", "us-east-1")
    ('us-east-1', '1234abcd-12ab')
    """
    parts = key.split(":")
    if len(parts) == 6 and parts[0] == "arn" and parts[2] == "kms" and parts[5].startswith("key/"):
        return parts[3], parts[5].removeprefix("key/")
    return default_region, key


def schedule_key_deletion(target: Target, key_arn: str, pending_days: int) -> str:
    """Schedule the key's deletion (in the key's own region); returns the one line to print."""
    region, key_id = key_region_and_id(key_arn, target.region)
    kms: Any = target.session().client("kms", region_name=region, endpoint_url=target.endpoint)
    # The key id, not the ARN: both are valid for KMS, and moto 5.2 only finds keys by id.
    answer = kms.schedule_key_deletion(KeyId=key_id, PendingWindowInDays=pending_days)
    when = answer.get("DeletionDate")
    day = when.date().isoformat() if hasattr(when, "date") else f"in {pending_days} days"
    return (
        f"KMS key {key_arn} scheduled for deletion on {day} ({pending_days}-day window; "
        f"undo: aws kms cancel-key-deletion --key-id {key_arn})"
    )


def retained_key_line(key_arn: str, stack: str) -> str:
    """The line printed when the key is kept.

    >>> retained_key_line("arn:aws:kms:us-east-1:1:key/k", "S")  # doctest: +ELLIPSIS
    'KMS key arn:aws:kms:us-east-1:1:key/k retained (SOPS files ... --key-arn arn:aws:kms:us-east-1:1:key/k'
    """
    return (
        f"KMS key {key_arn} retained (SOPS files encrypted to it still decrypt); delete it later with "
        f"python -m stacks.destroy --stack {stack} --schedule-key-deletion --key-arn {key_arn}"
    )


def destroy(
    target: Target,
    stack: str,
    *,
    force: bool,
    schedule: bool,
    key_arn: str | None,
    pending_days: int,
) -> list[str]:
    """Delete the stack (when deployed) and schedule its key's deletion when asked; the lines to print."""
    deployed = read_deployed(target, stack)
    lines = []
    if deployed is not None:
        if not force:
            raise DestroyError(
                f"destroying {stack} deletes the IAM user and its access keys (every client stops working); "
                "pass --force to go ahead"
            )
        key_arn = key_arn or deployed.outputs.get(OUTPUT_KMS_KEY_ARN)
        delete_stack(target, stack)
        lines.append(f"deleted stack {stack}")
    elif not (schedule and key_arn):
        raise DestroyError(
            f"stack {stack} is not deployed; to delete a KMS key left by an earlier destroy, pass "
            "--schedule-key-deletion --key-arn ARN"
        )
    if key_arn is None:
        return lines
    if schedule:
        lines.append(schedule_key_deletion(target, key_arn, pending_days))
    else:
        lines.append(retained_key_line(key_arn, stack))
    return lines


def main(argv: list[str] | None = None, *, local_target: LocalTarget | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m stacks.destroy", description=__doc__.splitlines()[0])
    parser.add_argument("--stack", default=DEFAULT_STACK_NAME)
    parser.add_argument("--force", action="store_true", help="really delete the stack (no prompt)")
    parser.add_argument("--schedule-key-deletion", action="store_true", help="schedule the KMS key's deletion")
    parser.add_argument("--key-arn", help="the KMS key to schedule (default: the stack's KmsKeyArn output)")
    parser.add_argument(
        "--pending-days",
        type=int,
        default=DEFAULT_PENDING_DAYS,
        help=f"days before KMS deletes the key ({MIN_PENDING_DAYS}-{MAX_PENDING_DAYS}, default {DEFAULT_PENDING_DAYS})",
    )
    add_location_arguments(parser)
    args = parser.parse_args(argv)
    if not MIN_PENDING_DAYS <= args.pending_days <= MAX_PENDING_DAYS:
        print(f"error: --pending-days must be {MIN_PENDING_DAYS}-{MAX_PENDING_DAYS} (KMS's window)", file=sys.stderr)
        return 2
    from botocore.exceptions import BotoCoreError, ClientError, WaiterError

    try:
        target = resolve_target(args.local, args.profile, local_target)
        lines = destroy(
            target,
            args.stack,
            force=args.force,
            schedule=args.schedule_key_deletion,
            key_arn=args.key_arn,
            pending_days=args.pending_days,
        )
    except PortkeyBedrockError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    except (BotoCoreError, ClientError, WaiterError) as err:
        print(f"error: destroy of {args.stack} failed: {str(err).splitlines()[0]}", file=sys.stderr)
        return 1
    for line in lines:
        print(line)
    return 0


if __name__ == "__main__":
    from stacks.missing import run_main

    sys.exit(run_main(main))
