"""`python -m runtime catalog check`: compare the catalog with Bedrock's control plane.

Calls, with the **operator's** AWS credentials (the ``portkey-bedrock-access`` user is not granted
them; its policy allows only bedrock:InvokeModel / InvokeModelWithResponseStream):

* ``ListFoundationModels`` — ``modelLifecycle.status`` (ACTIVE | LEGACY) of each model; a model the
  catalog still offers that is no longer listed has reached end of life; an ACTIVE model of a
  family the catalog lists, newer than the catalog's newest of that family, is reported too;
* ``ListInferenceProfiles`` / ``GetInferenceProfile`` — each catalog profile offered from the
  region exists there, and its ``models[].modelArn`` regions (= where Bedrock routes a call from
  this region) are all in the catalog's routes (the policy grants the model only through the
  exact profile, in any region; the catalog must still record the true routes).

One line per drift; exit 0 clean, 1 drift, 2 bad input or credentials (one line). Shapes:
https://docs.aws.amazon.com/bedrock/latest/APIReference/API_ListFoundationModels.html,
https://docs.aws.amazon.com/bedrock/latest/APIReference/API_ListInferenceProfiles.html,
https://docs.aws.amazon.com/bedrock/latest/APIReference/API_GetInferenceProfile.html.
Standard library at import; boto3 only when the check runs.
"""

from __future__ import annotations

import json
import re
import sys
from dataclasses import asdict, dataclass

from runtime.catalog import ANY_COMMERCIAL_REGION, LEGACY, Catalog, load_catalog
from runtime.cli_parser import OneLineParser
from runtime.errors import PortkeyBedrockError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Sequence
    from typing import Any

EXIT_CLEAN, EXIT_DRIFT, EXIT_USAGE = 0, 1, 2
OPERATOR_NOTE = (
    "Runs with operator credentials (AWS_PROFILE / the usual AWS chain): ListFoundationModels, "
    "ListInferenceProfiles and GetInferenceProfile are not granted to the portkey-bedrock-access user."
)

_VERSION_PART = re.compile(r"\d{1,2}")


@dataclass(frozen=True)
class Drift:
    kind: str  # lifecycle | end-of-life | profile-missing | destination | newer-model
    model: str  # catalog name, or the Bedrock model id for newer-model
    bedrock_id: str
    message: str


def family_and_version(model_id: str) -> tuple[str, tuple[int, ...]]:
    """A model id's family (provider + name words) and version (its short numbers); dates
    (8 digits) and the ``-v1:0`` suffix are ignored.

    >>> family_and_version("anthropic.claude-sonnet-4-5-20250929-v1:0")
    ('anthropic.claude-sonnet', (4, 5))
    >>> family_and_version("anthropic.claude-opus-4-6-v1")
    ('anthropic.claude-opus', (4, 6))
    >>> family_and_version("amazon.nova-2-lite-v1:0"), family_and_version("amazon.nova-lite-v1:0")
    (('amazon.nova-lite', (2,)), ('amazon.nova-lite', (1,)))
    """
    provider, _, rest = model_id.partition(".")
    words, numbers = [], []
    for part in rest.split(":")[0].split("-"):
        if _VERSION_PART.fullmatch(part):
            numbers.append(int(part))
        elif part.isdigit() or re.fullmatch(r"v\d+", part):
            continue
        else:
            words.append(part)
    return f"{provider}.{'-'.join(words)}", tuple(numbers) or (1,)


def _region_of(arn: str) -> str:
    parts = arn.split(":")
    return parts[3] if len(parts) > 3 else ""


def _list_profiles(client: Any) -> dict[str, dict[str, Any]]:
    profiles: dict[str, dict[str, Any]] = {}
    kwargs: dict[str, Any] = {"typeEquals": "SYSTEM_DEFINED", "maxResults": 1000}
    while True:
        page = client.list_inference_profiles(**kwargs)
        for profile in page.get("inferenceProfileSummaries", []):
            profiles[profile["inferenceProfileId"]] = profile
        token = page.get("nextToken")
        if not token:
            return profiles
        kwargs["nextToken"] = token


def _get_profile(client: Any, profile_id: str) -> dict[str, Any] | None:
    from botocore.exceptions import ClientError

    try:
        return dict(client.get_inference_profile(inferenceProfileIdentifier=profile_id))
    except ClientError as err:
        if err.response.get("Error", {}).get("Code") == "ResourceNotFoundException":
            return None
        raise


def check(catalog: Catalog, region: str, client: Any, day: str | None = None) -> list[Drift]:
    """Every drift between `catalog` and Bedrock in `region` (`client`: a boto3 ``bedrock`` client)."""
    drifts: list[Drift] = []
    listed = {m["modelId"]: m for m in client.list_foundation_models().get("modelSummaries", [])}
    profiles = _list_profiles(client)
    offered = [m for m in catalog if not m.is_eol(day) and region in m.source_regions()]
    for model in offered:
        summary = listed.get(model.model_id)
        if summary is None:
            drifts.append(
                Drift(
                    "end-of-life",
                    model.name,
                    model.model_id,
                    f"{model.name} ({model.model_id}) is no longer listed by ListFoundationModels in {region} "
                    f"(end of life?); record its lifecycle in runtime/catalog.json",
                )
            )
        elif summary.get("modelLifecycle", {}).get("status") == "LEGACY" and model.status_on(day) != LEGACY:
            drifts.append(
                Drift(
                    "lifecycle",
                    model.name,
                    model.model_id,
                    f"{model.name} ({model.model_id}) is LEGACY on Bedrock in {region}; the catalog says "
                    f"{model.status_on(day)}: record its legacy/EOL dates and a replacement",
                )
            )
        for offer in model.offers:
            if not offer.is_profile or offer.profile_id is None or region not in offer.routes:
                continue
            profile = profiles.get(offer.profile_id) or _get_profile(client, offer.profile_id)
            if profile is None:
                drifts.append(
                    Drift(
                        "profile-missing",
                        model.name,
                        offer.profile_id,
                        f"{model.name}: inference profile {offer.profile_id} does not exist in {region}; "
                        "remove this source region from the catalog's routes",
                    )
                )
                continue
            if offer.routes[region] == (ANY_COMMERCIAL_REGION,):
                continue  # global: any commercial Region
            routed = {_region_of(m.get("modelArn", "")) for m in profile.get("models", [])} - {""}
            for destination in sorted(routed - set(offer.routes[region])):
                drifts.append(
                    Drift(
                        "destination",
                        model.name,
                        offer.profile_id,
                        f"{model.name}: {offer.profile_id} from {region} routes to {destination}, "
                        "which the catalog's routes lack; add it to runtime/catalog.json",
                    )
                )
    newest: dict[str, tuple[tuple[int, ...], str]] = {}
    known = {m.model_id for m in catalog}
    for model in catalog:
        family, version = family_and_version(model.model_id)
        if family not in newest or version > newest[family][0]:
            newest[family] = (version, model.name)
    for model_id, summary in sorted(listed.items()):
        if model_id in known or summary.get("modelLifecycle", {}).get("status", "ACTIVE") != "ACTIVE":
            continue
        family, version = family_and_version(model_id)
        if family in newest and version > newest[family][0]:
            drifts.append(
                Drift(
                    "newer-model",
                    model_id,
                    model_id,
                    f"{model_id} is ACTIVE in {region}, newer than the catalog's {newest[family][1]}; "
                    "add it to runtime/catalog.json (with its AWS model card)",
                )
            )
    return drifts


def bedrock_client(region: str) -> Any:
    import boto3

    return boto3.client("bedrock", region_name=region)


def _one_line_aws_error(err: Exception) -> str:
    from botocore.exceptions import ClientError, NoCredentialsError

    if isinstance(err, NoCredentialsError):
        return "no AWS credentials found; run with operator credentials (AWS_PROFILE or AWS_ACCESS_KEY_ID)"
    if isinstance(err, ClientError):
        code = err.response.get("Error", {}).get("Code", "Error")
        return (
            f"Bedrock answered {code}; run with operator credentials allowed bedrock:ListFoundationModels, "
            "bedrock:ListInferenceProfiles and bedrock:GetInferenceProfile"
        )
    return f"cannot reach Bedrock's control plane ({type(err).__name__}); check the region and network"


def build_parser() -> OneLineParser:
    parser = OneLineParser(
        prog="python -m runtime catalog check",
        description="Compare runtime/catalog.json with Bedrock's control plane; one line per drift. " + OPERATOR_NOTE,
        epilog="Exit status: 0 clean, 1 drift found, 2 bad input or credentials.",
    )
    parser.add_argument("--region", help="source region to check (default: AWS_REGION or us-east-1)")
    parser.add_argument("--json", action="store_true", help="the drifts as JSON")
    return parser


def main(argv: Sequence[str] | None = None, *, client: Any = None) -> int:
    """``catalog check`` (argv without ``catalog check``)."""
    from runtime.resolve import pick_region

    try:
        args = build_parser().parse_args(list(sys.argv[1:] if argv is None else argv))
        catalog = load_catalog()
        region = pick_region(args.region)
        catalog.check_partition(region)
    except PortkeyBedrockError as err:
        print(f"error: {err}", file=sys.stderr)
        return EXIT_USAGE
    try:
        import botocore.exceptions

        drifts = check(catalog, region, client or bedrock_client(region))
    except (botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError) as err:
        print(f"error: {_one_line_aws_error(err)}", file=sys.stderr)
        return EXIT_USAGE
    if args.json:
        print(json.dumps({"region": region, "clean": not drifts, "drift": [asdict(d) for d in drifts]}, indent=2))
    else:
        for drift in drifts:
            print(f"drift: {drift.kind}: {drift.message}")
        if not drifts:
            print(f"catalog matches Bedrock in {region} ({len(catalog.models)} models checked)")
    return EXIT_DRIFT if drifts else EXIT_CLEAN
