"""`python -m runtime catalog check`: compare the catalog with Bedrock's control plane.

Bedrock moves on its own schedule (models turn Legacy, reach end of life, profiles gain and lose
destination Regions). This asks Bedrock, for one source Region, what it offers today and prints one
line per difference from ``runtime/catalog/catalog.json``, with the fix:

* ``ListFoundationModels`` (``modelSummaries[].modelLifecycle.status``: ``ACTIVE`` / ``LEGACY``;
  the API has no EOL value, an end-of-life model is absent), ``GetFoundationModel`` for a catalog
  model the list lacks;
* ``ListInferenceProfiles`` (``SYSTEM_DEFINED``) and ``GetInferenceProfile`` for a catalog
  profile the list lacks: the Region of each ``models[].modelArn`` is a destination of that profile
  from this source Region (AWS: "The Region in each model ARN in the ``models`` field is a
  destination Region");
* ``GetFoundationModelAvailability`` per allowed model: callable by this account now, or the one
  step to take (Region, Anthropic's use-case form, the AWS Marketplace subscription).

The catalog compared is the merged one (``runtime/catalog/catalog.json`` plus the overlay
``catalog sync`` writes).

Exit status: 0 clean, 1 drift, 2 bad input / no credentials / access denied. These calls need
operator credentials (``bedrock:ListFoundationModels``, ``bedrock:GetFoundationModel``,
``bedrock:ListInferenceProfiles``, ``bedrock:GetInferenceProfile``); the ``portkey-bedrock-access``
user is deliberately not granted them. :func:`compare` is pure (API-shaped dicts in, drifts out);
boto3 is imported only when Bedrock is asked.
"""

from __future__ import annotations

import json
import os
import sys
from dataclasses import asdict, dataclass

from runtime.catalog.model import ACTIVE, ANY_COMMERCIAL_REGION, EOL, LEGACY, Catalog, load_catalog
from runtime.catalog.resolve import pick_region
from runtime.cli.parser import OneLineParser
from runtime.constants import EXIT_USAGE
from runtime.errors import PortkeyBedrockError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping, Sequence
    from typing import Any

EXIT_CLEAN = 0
EXIT_DRIFT = 1
CATALOG_FILE = "runtime/catalog/catalog.json"
OPERATOR_ACTIONS = (
    "bedrock:ListFoundationModels",
    "bedrock:GetFoundationModel",
    "bedrock:ListInferenceProfiles",
    "bedrock:GetInferenceProfile",
    "bedrock:GetFoundationModelAvailability",
)
SYSTEM_DEFINED = "SYSTEM_DEFINED"

MODEL_LEGACY = "model-legacy"
MODEL_MISSING = "model-missing"
PROFILE_MISSING = "profile-missing"
DESTINATION_MISSING = "destination-missing"
DESTINATION_EXTRA = "destination-extra"
NEW_MODEL = "new-model"
MODEL_ACCESS = "model-access"
DRIFT_KINDS = (
    MODEL_LEGACY, MODEL_MISSING, PROFILE_MISSING, DESTINATION_MISSING, DESTINATION_EXTRA, NEW_MODEL, MODEL_ACCESS
)  # fmt: skip
AVAILABLE = "AVAILABLE"
SUBSCRIBE_STEP = (
    "subscribe in the AWS Marketplace: an operator with aws-marketplace:Subscribe opens the model in the Bedrock "
    "console's Model catalog and requests access (the portkey-bedrock-access user deliberately cannot)"
)


class CheckError(PortkeyBedrockError):
    """Bedrock's control plane could not be asked (credentials, permissions, endpoint)."""


@dataclass(frozen=True)
class Drift:
    """One difference between the catalog and Bedrock in one source Region."""

    kind: str
    region: str
    subject: str  # catalog model name, or the Bedrock model id of a model the catalog lacks
    message: str  # the one line: what differs and the fix
    model_id: str
    profile_id: str | None = None
    destination: str | None = None
    source: str | None = None  # the AWS page to re-read when fixing the catalog


@dataclass(frozen=True)
class CheckResult:
    region: str
    models_checked: int
    profiles_checked: int
    drifts: tuple[Drift, ...]
    access_lines: tuple[str, ...] = ()  # GetFoundationModelAvailability per allowed model

    @property
    def clean(self) -> bool:
        return not self.drifts

    def summary(self) -> str:
        """The result line.

        >>> CheckResult("us-east-1", 3, 2, ()).summary()
        'catalog check us-east-1: clean (3 models, 2 inference profiles match Bedrock)'
        """
        counted = f"{self.models_checked} models, {self.profiles_checked} inference profiles"
        if self.clean:
            return f"catalog check {self.region}: clean ({counted} match Bedrock)"
        return f"catalog check {self.region}: {len(self.drifts)} drift(s) ({counted} checked); exit 1"

    def to_json(self) -> dict[str, Any]:
        return {
            "region": self.region,
            "clean": self.clean,
            "models_checked": self.models_checked,
            "profiles_checked": self.profiles_checked,
            "drifts": [asdict(drift) for drift in self.drifts],
            "access": list(self.access_lines),
        }


def arn_region(arn: str) -> str:
    """The Region field of an ARN; a Region-less ARN (global profile) is ``*`` (any Region).

    >>> arn_region("arn:aws:bedrock:us-east-2::foundation-model/anthropic.claude-opus-4-7")
    'us-east-2'
    >>> arn_region("arn:aws:bedrock:::foundation-model/anthropic.claude-opus-4-7")
    '*'
    """
    parts = arn.split(":")
    return (parts[3] if len(parts) > 3 else "") or ANY_COMMERCIAL_REGION


def profile_destinations(profile: Mapping[str, Any]) -> set[str]:
    """Destination Regions of an inference profile: the Regions of its ``models[].modelArn``.

    >>> sorted(profile_destinations({"models": [{"modelArn": "arn:aws:bedrock:us-west-2::foundation-model/m"},
    ...                                          {"modelArn": "arn:aws:bedrock:us-east-1::foundation-model/m"}]}))
    ['us-east-1', 'us-west-2']
    """
    return {arn_region(str(entry.get("modelArn", ""))) for entry in profile.get("models") or ()}


def family_of(model_id: str, families: Iterable[tuple[str, str]]) -> tuple[str, str] | None:
    """(provider, family) of a Bedrock model id when it belongs to a catalog family, or is a new
    family of the same line (``claude-fable`` beside ``claude-opus``: the words before the version).

    >>> family_of("anthropic.claude-opus-5", [("anthropic", "claude-opus")])
    ('anthropic', 'claude-opus')
    >>> family_of("anthropic.claude-fable-5-1", [("anthropic", "claude-opus")])
    ('anthropic', 'claude-fable')
    >>> family_of("anthropic.claude-3-opus-20240229-v1:0", [("anthropic", "claude-opus")]) is None
    True
    """
    families = list(families)
    for provider, family in families:
        if model_id.startswith(f"{provider}.{family}-"):
            return provider, family
    for provider, family in families:
        line = family.split("-")[0]
        if model_id.startswith(f"{provider}.{line}-"):
            words = model_id.split(".", 1)[1].split("-")
            cut = next((i for i, word in enumerate(words) if word[:1].isdigit()), len(words))
            if cut >= 2:
                return provider, "-".join(words[:cut])
    return None


def compare(
    catalog: Catalog,
    region: str,
    model_summaries: Sequence[Mapping[str, Any]],
    profile_summaries: Sequence[Mapping[str, Any]],
    day: str | None = None,
) -> CheckResult:
    """Drifts between the catalog and Bedrock's answers for source Region `region`.

    `model_summaries` are ``ListFoundationModels`` ``modelSummaries`` (or ``GetFoundationModel``
    ``modelDetails``), `profile_summaries` ``ListInferenceProfiles`` ``inferenceProfileSummaries``
    (or ``GetInferenceProfile`` answers). Models the catalog marks end of life are expected to be
    absent and are not checked. Pure: no I/O.
    """
    listed = {str(s.get("modelId")): s for s in model_summaries}
    profiles = {
        str(p.get("inferenceProfileId")): p
        for p in profile_summaries
        if p.get("type", SYSTEM_DEFINED) == SYSTEM_DEFINED
    }
    drifts: list[Drift] = []
    models_checked = profiles_checked = 0
    for model in catalog:
        status = model.status_on(day)
        offers = [offer for offer in model.offers if region in offer.source_regions]
        if status == EOL or not offers:
            continue
        models_checked += 1
        life_source = model.lifecycle.source
        summary = listed.get(model.model_id)
        if summary is None:
            drifts.append(Drift(
                MODEL_MISSING, region, model.name,
                f"{model.name} ({model.model_id}) is not listed by Bedrock in {region} but {status} in the catalog "
                f"(probably end of life); set its lifecycle to eol with the AWS date and a replacement in "
                f"{CATALOG_FILE} (source: {life_source})",
                model.model_id, source=life_source,
            ))  # fmt: skip
        else:
            bedrock_status = str((summary.get("modelLifecycle") or {}).get("status", ACTIVE)).upper()
            if bedrock_status == LEGACY.upper() and status == ACTIVE:
                drifts.append(Drift(
                    MODEL_LEGACY, region, model.name,
                    f"{model.name} ({model.model_id}) is LEGACY on Bedrock in {region} but active in the catalog; "
                    f"update {CATALOG_FILE} lifecycle (legacy/EOL dates, replacement) (source: {life_source})",
                    model.model_id, source=life_source,
                ))  # fmt: skip
        for offer in offers:
            if not offer.is_profile or offer.profile_id is None:
                continue
            profiles_checked += 1
            profile = profiles.get(offer.profile_id)
            if profile is None:
                drifts.append(Drift(
                    PROFILE_MISSING, region, model.name,
                    f"{model.name}: inference profile {offer.profile_id} is not offered by Bedrock in {region}, "
                    f"yet the catalog routes calls from {region} through it; remove {region} from that offer's "
                    f"routes in {CATALOG_FILE} or re-check AWS's table (source: {offer.source})",
                    model.model_id, profile_id=offer.profile_id, source=offer.source,
                ))  # fmt: skip
                continue
            ours, bedrocks = set(offer.destinations(region)), profile_destinations(profile)
            drifts.extend(
                _destination_drifts(model.name, model.model_id, offer.profile_id, offer.source, region, ours, bedrocks)
            )
    drifts.extend(_new_models(catalog, region, model_summaries))
    return CheckResult(region, models_checked, profiles_checked, tuple(drifts))


def _destination_drifts(
    name: str, model_id: str, profile_id: str, source: str, region: str, ours: set[str], bedrocks: set[str]
) -> list[Drift]:
    if ANY_COMMERCIAL_REGION in ours:
        return []  # a global profile: the catalog (and the policy) cover any commercial Region
    drifts = []
    for destination in sorted(bedrocks - ours):
        drifts.append(Drift(
            DESTINATION_MISSING, region, name,
            f"{name}: {profile_id} from {region} routes to {destination} on Bedrock, which the catalog's routes "
            f"lack (the deployed policy would deny calls Bedrock sends there); add {destination} to "
            f'routes["{region}"] of that offer in {CATALOG_FILE} (source: {source})',
            model_id, profile_id=profile_id, destination=destination, source=source,
        ))  # fmt: skip
    for destination in sorted(ours - bedrocks):
        drifts.append(Drift(
            DESTINATION_EXTRA, region, name,
            f"{name}: {profile_id} from {region} no longer routes to {destination} on Bedrock, but the catalog "
            f'lists it; remove {destination} from routes["{region}"] of that offer in {CATALOG_FILE} '
            f"(source: {source})",
            model_id, profile_id=profile_id, destination=destination, source=source,
        ))  # fmt: skip
    return drifts


def _new_models(catalog: Catalog, region: str, model_summaries: Sequence[Mapping[str, Any]]) -> list[Drift]:
    known = {model.model_id for model in catalog}
    families = sorted({(model.provider, model.family) for model in catalog}, key=lambda pf: -len(pf[1]))
    drifts = []
    for summary in model_summaries:
        model_id = str(summary.get("modelId"))
        status = str((summary.get("modelLifecycle") or {}).get("status", ACTIVE)).upper()
        found = family_of(model_id, families)
        if model_id in known or found is None or status != ACTIVE.upper():
            continue
        if list(summary.get("inferenceTypesSupported") or ()) == ["PROVISIONED"]:
            continue  # a provisioned-throughput variant, not a model to call on demand
        drifts.append(Drift(
            NEW_MODEL, region, model_id,
            f"{model_id} ({summary.get('modelName', '?')}, family {found[1]}) is ACTIVE on Bedrock in {region} "
            f"but not in the catalog; add it to {CATALOG_FILE} with its AWS model-card URL as source, or "
            "record it in the overlay: python -m runtime catalog sync --write",
            model_id,
        ))  # fmt: skip
    return drifts


def access_step(availability: Mapping[str, Any], region: str) -> str | None:
    """None when a ``GetFoundationModelAvailability`` answer says the account can call the model
    in `region` now, else the one step to take first.

    >>> ok = {"agreementAvailability": {"status": "AVAILABLE"}, "authorizationStatus": "AUTHORIZED",
    ...       "entitlementAvailability": "AVAILABLE", "regionAvailability": "AVAILABLE"}
    >>> access_step(ok, "us-east-1") is None
    True
    >>> access_step({**ok, "agreementAvailability": {"status": "NOT_AVAILABLE"}}, "us-east-1")[:30]
    'subscribe in the AWS Marketpla'
    >>> access_step({**ok, "regionAvailability": "NOT_AVAILABLE"}, "eu-west-3")
    'not offered to this account in eu-west-3: call it from another Region (python -m runtime models --region R)'
    """
    if availability.get("regionAvailability", AVAILABLE) != AVAILABLE:
        return (
            f"not offered to this account in {region}: call it from another Region "
            "(python -m runtime models --region R)"
        )
    if availability.get("authorizationStatus", "AUTHORIZED") != "AUTHORIZED":
        return (
            "submit the provider's use-case form (Bedrock console > Model catalog > the model > "
            "request access; Anthropic asks for it once per account)"
        )
    agreement = availability.get("agreementAvailability") or {}
    status = agreement.get("status", AVAILABLE)
    if status == "PENDING":
        return "the Marketplace subscription is pending: wait a few minutes and check again"
    if status == "ERROR":
        return f"the Marketplace subscription failed ({agreement.get('errorMessage', 'no message')}); {SUBSCRIBE_STEP}"
    if status != AVAILABLE:
        return SUBSCRIBE_STEP
    if availability.get("entitlementAvailability", AVAILABLE) != AVAILABLE:
        return "the account is not entitled to the model: request access in the Bedrock console's Model catalog"
    return None


def access_drifts(catalog: Catalog, region: str, answers: Mapping[str, Mapping[str, Any] | None]) -> list[Drift]:
    """One ``model-access`` drift per model whose availability answer names a step (`answers`:
    model name -> ``GetFoundationModelAvailability`` body, None: Bedrock does not know the model)."""
    drifts = []
    for name, body in answers.items():
        model = catalog.model(name)
        step = "Bedrock does not know this model id here" if body is None else access_step(body, region)
        if step is not None:
            drifts.append(Drift(MODEL_ACCESS, region, name, f"{name} ({model.model_id}) is not callable by this "
                                f"account in {region} yet: {step}", model.model_id))  # fmt: skip
    return drifts


def access_lines(catalog: Catalog, region: str, answers: Mapping[str, Mapping[str, Any] | None]) -> list[str]:
    """One ``access:`` line per asked model: callable now, or the step (what check and doctor print)."""
    steps = {drift.subject: drift.message for drift in access_drifts(catalog, region, answers)}
    return [
        f"access: {steps[name]}"
        if name in steps
        else f"access: {name} ({catalog.model(name).model_id}) is callable now"
        for name in answers
    ]


def allowed_in_region(catalog: Catalog, region: str) -> list[str]:
    """Names of the allowed (``PORTKEY_BEDROCK_ALLOWED_MODELS``), not end-of-life models offered from `region`."""
    from runtime.catalog.resolve import allowed_models

    admitted = allowed_models(None, catalog)
    return [
        model.name
        for model in catalog
        if (admitted is None or model.name in admitted)
        and not model.is_eol()
        and any(region in offer.source_regions for offer in model.offers)
    ]


def fetch_availability(client: Any, catalog: Catalog, names: Sequence[str]) -> dict[str, dict[str, Any] | None]:
    """``GetFoundationModelAvailability`` for each model (None: ResourceNotFound / Validation)."""
    return {
        name: _get_or_none(client.get_foundation_model_availability, modelId=catalog.model(name).model_id)
        for name in names
    }


# --- asking Bedrock ------------------------------------------------------------------------------


def _error_code(exc: Exception) -> str:
    response = getattr(exc, "response", None)
    return str(response.get("Error", {}).get("Code", "")) if isinstance(response, dict) else ""


def explain_error(exc: Exception, region: str) -> CheckError:
    """One line naming the problem and the fix (never a credential)."""
    name = type(exc).__name__
    code = _error_code(exc)
    operator = (
        f"these calls need operator credentials with {', '.join(OPERATOR_ACTIONS)}; "
        "the portkey-bedrock-access user is not granted them"
    )
    if name in ("NoCredentialsError", "PartialCredentialsError"):
        return CheckError(f"no AWS credentials found; {operator} (use --profile or the AWS_* environment)")
    if name == "ProfileNotFound":
        return CheckError(f"AWS profile not found ({exc}); pass an existing --profile; {operator}")
    if code in ("AccessDeniedException", "AccessDenied", "UnauthorizedOperation"):
        return CheckError(f"Bedrock denied the control-plane call in {region} ({code}); {operator}")
    if code in ("ThrottlingException", "TooManyRequestsException", "Throttling"):
        return CheckError(
            f"Bedrock throttled the control-plane calls in {region} ({code}); wait a minute and run again "
            "(nothing was written)"
        )
    if code in ("UnrecognizedClientException", "InvalidSignatureException", "ExpiredTokenException",
                "InvalidClientTokenId", "ExpiredToken"):  # fmt: skip
        return CheckError(f"AWS rejected the credentials ({code}); refresh them; {operator}")
    if name in ("EndpointConnectionError", "ConnectTimeoutError", "ReadTimeoutError", "ConnectionClosedError"):
        return CheckError(
            f"cannot reach Bedrock in {region} ({name}); check the network, --region and AWS_ENDPOINT_URL"
        )
    detail = code or name
    return CheckError(f"Bedrock control plane call failed in {region} ({detail}); retry, or check --region")


def bedrock_client(region: str, profile: str | None) -> Any:
    try:
        import boto3
    except ImportError as exc:  # runtime has no dependencies; boto3 is an extra
        raise CheckError("catalog check needs boto3; install it: pip install 'boto3>=1.34'") from exc
    try:
        session = boto3.Session(profile_name=profile, region_name=region)
        # Local AWS: the service-specific variable first, as the SDKs order them.
        endpoint = os.environ.get("AWS_ENDPOINT_URL_BEDROCK") or os.environ.get("AWS_ENDPOINT_URL") or None
        return session.client("bedrock", endpoint_url=endpoint)
    except Exception as exc:  # ProfileNotFound and friends
        raise explain_error(exc, region) from exc


def fetch_answers(client: Any, region: str, catalog: Catalog) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Bedrock's model summaries and SYSTEM_DEFINED profiles in `region`: the List calls, then the
    Get calls for what the lists lack of `catalog`'s models and profiles offered from there."""
    summaries = list(client.list_foundation_models().get("modelSummaries") or [])
    profiles: list[dict[str, Any]] = []
    token: str | None = None
    while True:
        page = client.list_inference_profiles(typeEquals=SYSTEM_DEFINED, maxResults=1000,
                                              **({"nextToken": token} if token else {}))  # fmt: skip
        profiles.extend(page.get("inferenceProfileSummaries") or [])
        token = page.get("nextToken")
        if not token:
            break
    listed_models = {s.get("modelId") for s in summaries}
    listed_profiles = {p.get("inferenceProfileId") for p in profiles}
    for model in catalog:
        if model.status_on() == EOL or not any(region in o.source_regions for o in model.offers):
            continue
        if model.model_id not in listed_models:
            found = _get_or_none(client.get_foundation_model, modelIdentifier=model.model_id)
            if found is not None:
                summaries.append(found.get("modelDetails") or {})
        for offer in model.offers:
            if offer.profile_id and region in offer.source_regions and offer.profile_id not in listed_profiles:
                got = _get_or_none(client.get_inference_profile, inferenceProfileIdentifier=offer.profile_id)
                if got is not None:
                    profiles.append(got)
    return summaries, profiles


def fetch_and_compare(region: str, profile: str | None = None, catalog: Catalog | None = None) -> CheckResult:
    """Ask Bedrock in `region` (List*, then Get* for what the lists lack, then each allowed model's
    availability) and compare."""
    catalog = catalog or load_catalog()
    client = bedrock_client(region, profile)
    try:
        summaries, profiles = fetch_answers(client, region, catalog)
        availability = fetch_availability(client, catalog, allowed_in_region(catalog, region))
    except PortkeyBedrockError:
        raise
    except Exception as exc:
        raise explain_error(exc, region) from exc
    result = compare(catalog, region, summaries, profiles)
    access = tuple(access_drifts(catalog, region, availability))
    return CheckResult(result.region, result.models_checked, result.profiles_checked, result.drifts + access,
                       access_lines=tuple(access_lines(catalog, region, availability)))  # fmt: skip


def _get_or_none(call: Any, **kwargs: str) -> dict[str, Any] | None:
    try:
        return dict(call(**kwargs))
    except Exception as exc:
        if _error_code(exc) in ("ResourceNotFoundException", "ValidationException"):
            return None
        raise


def main(argv: Sequence[str] | None = None) -> int:
    parser = OneLineParser(prog="python -m runtime catalog check", description=__doc__.splitlines()[0])
    parser.add_argument("--region", help="source Region to check (default: AWS_REGION or us-east-1)")
    parser.add_argument("--profile", help="AWS profile with operator credentials (not the portkey-bedrock-access user)")
    parser.add_argument("--json", action="store_true", help="typed JSON instead of lines")
    try:
        args = parser.parse_args(list(sys.argv[1:] if argv is None else argv))
        result = fetch_and_compare(pick_region(args.region), args.profile)
    except PortkeyBedrockError as err:
        print(f"error: {err}", file=sys.stderr)
        return EXIT_USAGE
    if args.json:
        print(json.dumps(result.to_json(), indent=2))
    else:
        for drift in result.drifts:
            if drift.kind != MODEL_ACCESS:
                print(f"drift: {drift.message}")
        for line in result.access_lines:
            print(line)
        print(result.summary())
    return EXIT_CLEAN if result.clean else EXIT_DRIFT
