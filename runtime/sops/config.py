"""``.sops.yaml``: find it like sops, pick the creation rule for a file, write a rule.

config/config.go: the file is looked for in the working directory and its parents
(``.sops.yaml``; ``.sops.yml`` is ignored with a warning by sops, so here too); the file path
is taken relative to the config's directory and the first rule whose ``path_regex`` matches
anywhere in it (an empty regex matches everything) wins. ``age`` and ``kms`` are a list or a
comma-separated string; a KMS entry may be ``ARN+ROLE_ARN``.
"""

from __future__ import annotations

import os
import re
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


def rule_for(file: Path, config: Path | None = None) -> CreationRule:
    """The creation rule of ``config`` (default: found from cwd) that applies to ``file``."""
    config = config or find_config()
    if config is None:
        raise SopsConfigError(
            f"no {CONFIG_NAME} found in this directory or its parents; "
            "create one with `python -m runtime secrets init --age RECIPIENT`"
        )
    data = _load_yaml(config)
    rules = data.get("creation_rules")
    if not isinstance(rules, list):
        raise SopsConfigError(f"{config} has no creation_rules list; add one with `secrets init`")
    config_dir = str(config.resolve().parent)
    target = str(file.resolve())
    relative = target.removeprefix(config_dir + os.sep)
    for raw in rules:
        pattern = raw.get("path_regex") if isinstance(raw, dict) else None
        if not pattern:
            return _rule_from(raw, config)
        try:
            if re.search(str(pattern), relative):
                return _rule_from(raw, config)
        except re.error as exc:
            raise SopsConfigError(f"{config}: path_regex {pattern!r} is not a valid regex ({exc})") from None
    raise SopsConfigError(
        f"no creation rule in {config} matches {relative}; add one "
        f"(`python -m runtime secrets init`) or move the file under secrets/"
    )


def set_rule(config: Path, path_regex: str, age: list[str], kms: list[str]) -> bool:
    """Write or replace the rule for ``path_regex`` (kept first, so it wins). True if created."""
    import yaml

    from runtime.sops.age import parse_recipient

    if not age and not kms:
        raise SopsConfigError("give at least one recipient: --age age1... or --kms-arn arn:aws:kms:...")
    for recipient in age:
        parse_recipient(recipient)
    for arn in kms:
        KmsKey.parse(arn)
    data = _load_yaml(config) if config.exists() else {}
    rules = data.get("creation_rules") or []
    if not isinstance(rules, list):
        raise SopsConfigError(f"{config}: creation_rules must be a list")
    rule: dict[str, Any] = {"path_regex": path_regex}
    if kms:
        rule["kms"] = ",".join(kms)
    if age:
        rule["age"] = ",".join(age)
    kept = [r for r in rules if not (isinstance(r, dict) and r.get("path_regex") == path_regex)]
    previous = [r for r in rules if isinstance(r, dict) and r.get("path_regex") == path_regex]
    if previous:
        extras = {k: v for k, v in previous[0].items() if k not in ("path_regex", "age", "kms", "key_groups")}
        rule.update(extras)
    data["creation_rules"] = [rule, *kept]
    header = (
        "# SOPS creation rules (https://github.com/getsops/sops). Written by\n"
        "# `python -m runtime secrets init`; the first rule whose path_regex matches wins.\n"
        "# Recipients are PUBLIC keys; never put an age identity (AGE-SECRET-KEY-...) here.\n"
    )
    from runtime.atomicfile import atomic_write_text

    atomic_write_text(config, header + yaml.safe_dump(data, sort_keys=False, width=1000))
    return not previous
