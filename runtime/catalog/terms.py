"""The catalog's vocabulary: lifecycle states, offer kinds, known request parameters, and the pure
checks on names, regions and source URLs. Shared by :mod:`runtime.catalog.model` (the loaded
catalog) and :mod:`runtime.catalog.rules` (the slow-path checks), so neither imports the other at
module level.
"""

# lifecycle states, as AWS's model-lifecycle page names them
ACTIVE = "active"
LEGACY = "legacy"
EOL = "eol"
STATUSES = (ACTIVE, LEGACY, EOL)

# offer kinds
PROFILE_OFFER = "inference-profile"
ON_DEMAND_OFFER = "on-demand"
GLOBAL_SCOPE = "global"
# The destination list of a global profile's route: "any commercial Region" (AWS: "the destination
# Regions for Global cross-Region inference profiles include all commercial Regions").
ANY_COMMERCIAL_REGION = "*"

# the partition this project supports; a region of any other partition is refused
SUPPORTED_PARTITION = "aws"

# request parameters a catalog entry may list as rejected, the numeric ones it may bound, the
# thinking modes it may accept (``between_tools``: Claude Sonnet 5.5's lowest setting) and the
# tool_choice kinds (Anthropic's names)
KNOWN_PARAMS = ("temperature", "top_p", "top_k", "stop", "stop_sequences")
NUMERIC_PARAMS = ("temperature", "top_p", "top_k")
THINKING_MODES = ("enabled", "adaptive", "disabled", "between_tools")
TOOL_CHOICE_KINDS = ("auto", "none", "any", "tool")
# Anthropic's documentation hosts: a model's Bedrock id and its request rules may be cited from
# Anthropic's model pages; lifecycle and offers (routing) only from AWS pages
ANTHROPIC_DOC_HOSTS = ("platform.claude.com", "docs.claude.com", "docs.anthropic.com")

_SEPARATORS = str.maketrans({"_": "-", " ": "-", ".": "-", "/": "-"})


def normalize_name(name: str) -> str:
    """Fold a friendly model name to its lookup key: lower case, any separator run -> ``-``.

    >>> normalize_name("Claude_Sonnet_4.5")
    'claude-sonnet-4-5'
    >>> normalize_name("  claude  large ")
    'claude-large'
    >>> normalize_name("CLAUDE-SONNET-4")
    'claude-sonnet-4'
    """
    parts = name.strip().lower().translate(_SEPARATORS).split("-")
    return "-".join(part for part in parts if part)


def is_region_name(region: str) -> bool:
    """True for a well-formed AWS region name (``us-east-1``, ``us-gov-west-1``).

    >>> is_region_name("eu-west-1"), is_region_name("us-gov-west-1")
    (True, True)
    >>> is_region_name("us-east"), is_region_name("US-EAST-1"), is_region_name("useast1")
    (False, False, False)
    >>> is_region_name("us-east-\N{SUPERSCRIPT ONE}"), is_region_name("us-east-\N{ARABIC-INDIC DIGIT ONE}")
    (False, False)
    """
    parts = region.split("-")
    # [0-9] only: str.isdigit() alone also takes Unicode digits (us-east-¹), which fail at request time
    if len(parts) not in (3, 4) or not (parts[-1].isascii() and parts[-1].isdigit()):
        return False
    return all(part.isalpha() and part.islower() and part.isascii() for part in parts[:-1])


def is_aws_url(url: object) -> bool:
    """True for an https URL on an AWS documentation or product host (what ``sources`` may hold).

    >>> is_aws_url("https://docs.aws.amazon.com/bedrock/latest/userguide/model-lifecycle.html")
    True
    >>> is_aws_url("https://aws.amazon.com/bedrock/claude/"), is_aws_url("http://docs.aws.amazon.com/x")
    (True, False)
    >>> is_aws_url("https://docs.aws.amazon.com.evil.example/x"), is_aws_url("https://anthropic.com/")
    (False, False)
    """
    if not isinstance(url, str) or not url.startswith("https://"):
        return False
    host = url[len("https://") :].split("/", 1)[0].lower()
    return host == "aws.amazon.com" or host.endswith(".aws.amazon.com")


def is_doc_url(url: object) -> bool:
    """True for an AWS URL (:func:`is_aws_url`) or an https page of Anthropic's documentation:
    what a model's ``sources`` and its ``request_rules.source`` may hold.

    >>> is_doc_url("https://platform.claude.com/docs/en/models/sonnet-5-5/whats-new-sonnet-5-5")
    True
    >>> is_doc_url("https://www.anthropic.com/claude"), is_doc_url("https://platform.claude.com.evil.example/x")
    (False, False)
    """
    if is_aws_url(url):
        return True
    if not isinstance(url, str) or not url.startswith("https://"):
        return False
    return url[len("https://") :].split("/", 1)[0].lower() in ANTHROPIC_DOC_HOSTS
