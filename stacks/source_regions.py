"""The invoke policy for several source regions: Bedrock counts on-demand quotas (requests and
tokens per minute) per *source* region, also for cross-Region profiles, so a key allowed to call
the same ``us.`` profile from us-east-1 and us-west-2 can use twice the quota.

The grants are :func:`stacks.bedrock_policy.build_statements`, the one policy builder, called once
per source region and merged: the first region keeps its Sids (a one-region stack is unchanged),
the others get the region appended (``ModelClaudeSonnet45UsWest2``); identical statements are
kept once and the exact-profile grants that share a condition are merged into one statement, so
IAM's 6,144-character split (`stacks.bedrock_policy.split_statements`) still applies.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from runtime.errors import PortkeyBedrockError
from stacks.bedrock_policy import (
    API_KEYS_MODES,
    API_KEYS_OFF,
    API_KEYS_SHORT_TERM,
    PolicyValidationError,
    Statement,
    build_statements,
    merge_profile_statements,
    short_term_api_key_statement,
    split_statements,
    statement_sid,
    validate_statements,
)

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence

    from runtime.catalog import Catalog

# IAM's default quota of managed policies attached to one user
# (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_iam-quotas.html)
MAX_MANAGED_POLICIES_PER_USER = 10


def region_suffix(region: str) -> str:
    """The Sid suffix of a source region.

    >>> region_suffix("us-west-2")
    'UsWest2'
    """
    return statement_sid("", region)


def check_offered(catalog: Catalog, models: Iterable[str], regions: Sequence[str]) -> None:
    """Raise :class:`PolicyValidationError`, one line naming model and region, when a model is
    not offered from one of the source regions.

    >>> from runtime.catalog import load_catalog
    >>> check_offered(load_catalog(), ["claude-haiku-4.5"], ["us-east-1", "sa-east-1"])  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    stacks.bedrock_policy.PolicyValidationError: model claude-haiku-4.5 is not offered from source region sa-east-1; ...
    """
    for name in models:
        model = catalog.model(name)
        for region in regions:
            try:
                catalog.offer_for(model, region)
            except PortkeyBedrockError:
                raise PolicyValidationError(
                    f"model {model.name} is not offered from source region {region}; "
                    f"remove {region} from source_regions or {model.name} from allowed_models"
                ) from None


def build_region_statements(
    catalog: Catalog,
    regions: Sequence[str],
    account: str,
    allowed: Sequence[str] | None = None,
    partition: str = "aws",
    api_keys: str = API_KEYS_OFF,
) -> list[Statement]:
    """The statements of :func:`build_statements` for every source region, merged (plus the
    short-term API key statement once, with ``api_keys="short-term"``).

    >>> from runtime.catalog import load_catalog
    >>> regions = ["us-east-1", "us-west-2"]
    >>> merged = build_region_statements(load_catalog(), regions, "111122223333", ["claude-haiku-4.5"])
    >>> [s["Sid"] for s in merged]
    ['Profiles', 'ModelClaudeHaiku45', 'ModelClaudeHaiku45UsWest2']
    >>> [r.split(":")[3] for r in merged[0]["Resource"]]
    ['us-east-1', 'us-west-2']
    """
    if not regions:
        raise PolicyValidationError("no source region given; name at least one (e.g. us-east-1)")
    if allowed is not None:
        check_offered(catalog, allowed, regions)
    if len(set(regions)) == 1:
        return build_statements(catalog, regions[0], account, allowed, partition, api_keys=api_keys)
    combined: list[Statement] = []
    seen: set[str] = set()
    for index, region in enumerate(dict.fromkeys(regions)):
        for statement in build_statements(catalog, region, account, allowed, partition):
            key = repr({k: v for k, v in statement.items() if k != "Sid"})
            if key in seen:
                continue  # the same grant from another region: once is enough
            seen.add(key)
            if index:
                statement = {**statement, "Sid": f"{statement['Sid']}{region_suffix(region)}"}
            combined.append(statement)
    merged = merge_profile_statements(combined)
    if api_keys not in API_KEYS_MODES:
        raise PolicyValidationError(f"api_keys={api_keys!r} is unknown; use one of {', '.join(API_KEYS_MODES)}")
    if api_keys == API_KEYS_SHORT_TERM:
        merged.append(short_term_api_key_statement())
    validate_statements(merged)
    parts = len(split_statements(merged))
    if parts > MAX_MANAGED_POLICIES_PER_USER:
        raise PolicyValidationError(
            f"{len(regions)} source regions need {parts} managed policies, more than the "
            f"{MAX_MANAGED_POLICIES_PER_USER} IAM attaches to one user; list fewer source_regions or allowed_models"
        )
    return merged
