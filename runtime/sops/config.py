"""``.sops.yaml``: find it like sops, pick the creation rule for a file, write a rule.

config/config.go: the file is looked for in the working directory and its parents
(``.sops.yaml``; ``.sops.yml`` is ignored with a warning by sops, so here too); the file path
is taken relative to the config's directory and the first rule whose ``path_regex`` matches
anywhere in it (an empty regex matches everything) wins. ``age`` and ``kms`` are a list or a
comma-separated string; a KMS entry may be ``ARN+ROLE_ARN``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from runtime.constants import SOPS_CONFIG_FILE
from runtime.sops.errors import SopsConfigError
from runtime.sops.kms import KmsKey

CONFIG_NAME = SOPS_CONFIG_FILE
MAX_DEPTH = 100
_RULE_KEYS = ("unencrypted_suffix", "encrypted_suffix", "unencrypted_regex", "encrypted_regex")


@dataclass(frozen=True)
class CreationRule:
    """What a new SOPS file is encrypted to, and which values stay in clear."""

    path_regex: str = ""
    age: tuple[str, ...] = ()
    kms: tuple[KmsKey, ...] = ()
    crypt: dict[str, str] = field(default_factory=dict)
    mac_only_encrypted: bool = False


def find_config(start: Path | None = None) -> Path | None:
    """The nearest ``.sops.yaml`` in ``start`` (default: cwd) or a parent directory."""
    here = (start or Path.cwd()).resolve()
    for _ in range(MAX_DEPTH):
        candidate = here / CONFIG_NAME
        if candidate.is_file():
            return candidate
        if here.parent == here:
            return None
        here = here.parent
    return None


def split_keys(value: Any, name: str) -> list[str]:
    """``age``/``kms`` as sops reads them: a list, or a comma-separated string.

    >>> split_keys("age1a, age1b,", "age"), split_keys(["age1c"], "age"), split_keys(None, "age")
    (['age1a', 'age1b'], ['age1c'], [])
    """
    if value is None:
        return []
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    if isinstance(value, list) and all(isinstance(item, str) for item in value):
        return [item.strip() for item in value if item.strip()]
    raise SopsConfigError(f"{name} in .sops.yaml must be a string or a list of strings")


def _load_yaml(path: Path) -> dict[str, Any]:
    import yaml

    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise SopsConfigError(f"cannot read {path}: {exc.strerror}") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 1})" if mark is not None else ""
        raise SopsConfigError(f"{path} is not valid YAML{where}; fix its syntax") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise SopsConfigError(f"{path} must be a YAML mapping with creation_rules")
    return data


def _rule_from(raw: Any, path: Path) -> CreationRule:
    if not isinstance(raw, dict):
        raise SopsConfigError(f"a creation rule in {path} is not a mapping")
    age = split_keys(raw.get("age"), "age")
    profile = str(raw.get("aws_profile") or "")
    kms = [KmsKey.parse(arn, profile) for arn in split_keys(raw.get("kms"), "kms")]
    groups = raw.get("key_groups") or []
    if groups:
        if not isinstance(groups, list) or len(groups) != 1 or not isinstance(groups[0], dict):
            raise SopsConfigError(
                f"{path}: several key_groups (Shamir secret sharing) are not supported here; use one group"
            )
        group = groups[0]
        age += split_keys(group.get("age"), "age")
        for entry in group.get("kms") or []:
            if not isinstance(entry, dict) or not isinstance(entry.get("arn"), str):
                raise SopsConfigError(f"{path}: each key_groups kms entry needs an arn")
            key = KmsKey.parse(entry["arn"], str(entry.get("aws_profile") or ""))
            context = entry.get("context") or {}
            pairs = tuple(sorted((str(k), str(v)) for k, v in context.items()))
            kms.append(KmsKey(key.arn, str(entry.get("role") or key.role), pairs, key.aws_profile))
    if raw.get("pgp") or raw.get("gcp_kms") or raw.get("azure_keyvault") or raw.get("hc_vault_transit_uri"):
        raise SopsConfigError(f"{path}: only age and kms recipients are supported by this codec")
    crypt = {name: str(raw[name]) for name in _RULE_KEYS if raw.get(name)}
    if len(crypt) > 1:
        raise SopsConfigError(f"{path}: a rule may set only one of {', '.join(_RULE_KEYS)}")
    if not age and not kms:
        raise SopsConfigError(f"{path}: the matching creation rule names no age or kms recipient")
    return CreationRule(str(raw.get("path_regex") or ""), tuple(age), tuple(kms), crypt,
                        bool(raw.get("mac_only_encrypted")))  # fmt: skip


def no_rule_message(file: Path, config: Path | None = None) -> str:
    """The one line for a file no creation rule covers (no ``.sops.yaml``, or no rule matches).

    >>> no_rule_message(Path("secrets/env.json"))
    'no SOPS creation rule for secrets/env.json; run python -m runtime secrets init --age <your age1… key> first'
    """
    where = f" in {config}" if config is not None else ""
    base = config.parent if config is not None else Path.cwd()
    return (
        f"no SOPS creation rule for {_shown(file, base)}{where}; "
        "run python -m runtime secrets init --age <your age1… key> first"
    )


def _shown(file: Path, base: Path) -> str:
    """``file`` relative to ``base`` when it is below it, else as given."""
    try:
        return str(file.resolve().relative_to(base.resolve()))
    except ValueError:
        return str(file)


def rule_for(file: Path, config: Path | None = None) -> CreationRule:
    """The creation rule of ``config`` (default: found from cwd) that applies to ``file``."""
    from runtime.sops.regex import search

    config = config or find_config()
    if config is None or not config.is_file():
        raise SopsConfigError(no_rule_message(file))
    data = _load_yaml(config)
    rules = data.get("creation_rules")
    if not isinstance(rules, list) or not rules:
        raise SopsConfigError(no_rule_message(file, config))
    config_dir = str(config.resolve().parent)
    target = str(file.resolve())
    relative = target.removeprefix(config_dir + os.sep)
    for raw in rules:
        pattern = raw.get("path_regex") if isinstance(raw, dict) else None
        if not pattern:
            return _rule_from(raw, config)
        if search(str(pattern), relative, f"{config}: path_regex"):
            return _rule_from(raw, config)
    raise SopsConfigError(no_rule_message(file, config))


def set_rule(config: Path, path_regex: str, age: list[str], kms: list[str], *, replace: bool = False) -> RuleChange:
    """Write the rule for ``path_regex`` (kept first, so it wins). An existing rule for the same
    ``path_regex`` keeps its recipients and gains the new ones, unless ``replace``."""
    import yaml

    from runtime.sops.age import parse_recipient
    from runtime.sops.kms import check_new_arn

    if not age and not kms:
        raise SopsConfigError("give at least one recipient: --age age1... or --kms-arn arn:aws:kms:...")
    for recipient in age:
        parse_recipient(recipient)
    for arn in kms:
        check_new_arn(KmsKey.parse(arn).arn)
    data = _load_yaml(config) if config.exists() else {}
    rules = data.get("creation_rules") or []
    if not isinstance(rules, list):
        raise SopsConfigError(f"{config}: creation_rules must be a list")
    previous = next((r for r in rules if isinstance(r, dict) and r.get("path_regex") == path_regex), None)
    kept = [r for r in rules if r is not previous]
    old_age = split_keys(previous.get("age"), "age") if previous else []
    old_kms = split_keys(previous.get("kms"), "kms") if previous else []
    if previous and previous.get("key_groups") and not replace:
        raise SopsConfigError(
            f"{config}: the rule for {path_regex} uses key_groups; edit it by hand, or pass --replace to rewrite it"
        )
    new_age = age if replace else list(dict.fromkeys([*old_age, *age]))
    new_kms = kms if replace else list(dict.fromkeys([*old_kms, *kms]))
    rule: dict[str, Any] = {"path_regex": path_regex}
    if new_kms:
        rule["kms"] = ",".join(new_kms)
    if new_age:
        rule["age"] = ",".join(new_age)
    if previous:
        rule.update({k: v for k, v in previous.items() if k not in ("path_regex", "age", "kms", "key_groups")})
    data["creation_rules"] = [rule, *kept]
    header = (
        "# SOPS creation rules (https://github.com/getsops/sops). Written by\n"
        "# `python -m runtime secrets init`; the first rule whose path_regex matches wins.\n"
        "# Recipients are PUBLIC keys; never put an age identity (AGE-SECRET-KEY-...) here.\n"
    )
    from runtime.atomicfile import atomic_write_text

    atomic_write_text(config, header + yaml.safe_dump(data, sort_keys=False, width=1000))
    dropped = [] if not replace else [r for r in [*old_age, *old_kms] if r not in [*age, *kms]]
    kept_old = [] if replace else [r for r in [*old_age, *old_kms] if r not in [*age, *kms]]
    return RuleChange(created=previous is None, kept=tuple(kept_old), dropped=tuple(dropped))


@dataclass(frozen=True)
class RuleChange:
    """What :func:`set_rule` did: a new rule, or which earlier recipients it kept or dropped."""

    created: bool
    kept: tuple[str, ...] = ()
    dropped: tuple[str, ...] = ()
