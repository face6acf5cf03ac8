""".sops.yaml: discovery, rule matching, `set_rule`."""

import re

import pytest
import yaml

from runtime.sops.config import find_config, rule_for, set_rule, split_keys
from runtime.sops.errors import SopsConfigError
from runtime.sops.kms import KmsKey

ARN = "arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"
IDENTITY = re.compile(r"AGE-SECRET-KEY-1[0-9A-Z]{20,}")
ROLE = "arn:aws:iam::111122223333:role/sops"


@pytest.mark.parametrize(
    ("value", "expected"),
    [("a, b,", ["a", "b"]), (["c", " d "], ["c", "d"]), (None, []), ("", [])],
)
def test_split_keys(value, expected):
    assert split_keys(value, "age") == expected


def test_find_config_walks_up(tmp_path, monkeypatch):
    (tmp_path / ".sops.yaml").write_text("creation_rules: []\n")
    deep = tmp_path / "a" / "b"
    deep.mkdir(parents=True)
    monkeypatch.chdir(deep)
    assert find_config() == tmp_path / ".sops.yaml"
    (tmp_path / "a" / ".sops.yml").write_text("ignored: true\n")  # sops ignores .sops.yml
    assert find_config() == tmp_path / ".sops.yaml"


def test_rules_first_match_and_key_forms(tmp_path, age_pair):
    recipient = age_pair[1]
    config = tmp_path / ".sops.yaml"
    config.write_text(
        "creation_rules:\n"
        f"  - path_regex: secrets/prod/.*\n    kms: '{ARN}+{ROLE}'\n    aws_profile: prod\n"
        f"  - path_regex: secrets/.*\\.json$\n    age: [{recipient}]\n    encrypted_regex: ^AWS_\n"
        f"  - age: {recipient}, {recipient}\n"
    )
    prod = rule_for(tmp_path / "secrets" / "prod" / "x.json", config)
    assert prod.kms == (KmsKey(ARN, ROLE, (), "prod"),) and prod.age == ()
    default = rule_for(tmp_path / "secrets" / "env.json", config)
    assert default.age == (recipient,) and default.crypt == {"encrypted_regex": "^AWS_"}
    catch_all = rule_for(tmp_path / "other.txt", config)
    assert catch_all.age == (recipient, recipient)


def test_key_groups_single_group(tmp_path, age_pair):
    config = tmp_path / ".sops.yaml"
    config.write_text(
        "creation_rules:\n  - key_groups:\n      - age: [" + age_pair[1] + "]\n"
        f"        kms:\n          - arn: {ARN}\n            context: {{app: portkey}}\n"
    )
    rule = rule_for(tmp_path / "x.json", config)
    assert rule.age == (age_pair[1],) and rule.kms[0].context == (("app", "portkey"),)


@pytest.mark.parametrize(
    ("text", "match"),
    [("creation_rules:\n  - path_regex: nothing-matches\n    age: x\n", "no creation rule"),
     ("creation_rules: 5\n", "no creation_rules list"),
     ("creation_rules:\n  - path_regex: .*\n", "names no age or kms"),
     ("creation_rules:\n  - pgp: ABC\n", "only age and kms"),
     ("creation_rules:\n  - kms: arn:aws:iam::1:role/x\n", "not a KMS key ARN"),
     ("creation_rules: [\n", "not valid YAML"),
     ("creation_rules:\n  - path_regex: '('\n    age: x\n", "not a valid regex")],
)  # fmt: skip
def test_bad_configs(tmp_path, text, match):
    config = tmp_path / ".sops.yaml"
    config.write_text(text)
    with pytest.raises(SopsConfigError, match=match):
        rule_for(tmp_path / "secrets" / "env.json", config)


def test_no_config_found(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SopsConfigError, match=r"no \.sops\.yaml found"):
        rule_for(tmp_path / "x.json")


def test_set_rule_creates_and_replaces(tmp_path, age_pair):
    config = tmp_path / ".sops.yaml"
    config.write_text("creation_rules:\n  - path_regex: other/.*\n    age: " + age_pair[1] + "\n")
    assert set_rule(config, r"secrets/.*\.json$", [age_pair[1]], []) is True
    assert set_rule(config, r"secrets/.*\.json$", [], [ARN]) is False
    data = yaml.safe_load(config.read_text())
    assert data["creation_rules"][0] == {"path_regex": r"secrets/.*\.json$", "kms": ARN}
    assert data["creation_rules"][1]["path_regex"] == "other/.*"
    assert not IDENTITY.search(config.read_text())


def test_set_rule_validates(tmp_path):
    config = tmp_path / ".sops.yaml"
    with pytest.raises(SopsConfigError, match="at least one recipient"):
        set_rule(config, "x", [], [])
    with pytest.raises(SopsConfigError, match="not an age"):
        set_rule(config, "x", ["AGE-SECRET-KEY-1ABC"], [])
    assert not config.exists()


def test_repo_sops_yaml_has_rule_for_env_json():
    from pathlib import Path

    repo = Path(__file__).resolve().parents[3]
    rule = rule_for(repo / "secrets" / "env.json", repo / ".sops.yaml")
    assert rule.age and all(r.startswith("age1") for r in rule.age)
    assert not IDENTITY.search((repo / ".sops.yaml").read_text())
