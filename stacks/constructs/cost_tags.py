"""The construct that tags the access user for cost allocation (Bedrock attributes inference cost to
the calling IAM principal and its tags once the tag keys are activated as cost allocation tags)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aws_cdk import Tags
from constructs import Construct

from runtime.spend import STACK_TAG_KEY

if TYPE_CHECKING:
    from collections.abc import Sequence

    from aws_cdk import aws_iam as iam


class CostTags(Construct):
    """The operator's `tags` plus ``portkey-bedrock-access:stack=<stack name>`` on `user` only."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        user: iam.IUser,
        stack_name: str,
        tags: Sequence[tuple[str, str]] = (),
    ) -> None:
        super().__init__(scope, construct_id)
        self.tags = {STACK_TAG_KEY: stack_name, **dict(tags)}
        for key, value in self.tags.items():
            Tags.of(user).add(key, value)
