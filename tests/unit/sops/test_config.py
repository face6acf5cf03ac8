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
    [("creation_rules:\n  - path_regex: nothing-matches\n    age: x\n", "no SOPS creation rule for secrets/env.json"),
     ("creation_rules: 5\n", "no SOPS creation rule"),
     ("creation_rules:\n  - path_regex: .*\n", "names no age or kms"),
     ("creation_rules:\n  - pgp: ABC\n", "only age and kms"),
     ("creation_rules:\n  - kms: arn:aws:iam::1:role/x\n", "not a KMS key ARN"),
     ("creation_rules: [\n", "not valid YAML"),
     ("creation_rules:\n  - path_regex: '('\n    age: x\n", "not a valid RE2 .Go. regular expression")],
)  # fmt: skip
def test_bad_configs(tmp_path, text, match):
    config = tmp_path / ".sops.yaml"
    config.write_text(text)
    with pytest.raises(SopsConfigError, match=match):
        rule_for(tmp_path / "secrets" / "env.json", config)


def test_set_rule_creates_and_replaces(tmp_path, age_pair):
    config = tmp_path / ".sops.yaml"
    config.write_text("creation_rules:\n  - path_regex: other/.*\n    age: " + age_pair[1] + "\n")
    assert set_rule(config, r"secrets/.*\.json$", [age_pair[1]], []).created is True
    assert set_rule(config, r"secrets/.*\.json$", [], [ARN]).created is False
    data = yaml.safe_load(config.read_text())
    assert data["creation_rules"][0] == {"path_regex": r"secrets/.*\.json$", "kms": ARN, "age": age_pair[1]}
    assert data["creation_rules"][1]["path_regex"] == "other/.*"
    assert not IDENTITY.search(config.read_text())


def test_set_rule_validates(tmp_path):
    config = tmp_path / ".sops.yaml"
    with pytest.raises(SopsConfigError, match="at least one recipient"):
        set_rule(config, "x", [], [])
    with pytest.raises(SopsConfigError, match="private age identity"):
        set_rule(config, "x", ["AGE-SECRET-KEY-1ABC"], [])
    assert not config.exists()


@pytest.mark.parametrize(
    ("arn", "problem"),
    [
        ("arn:aws:kms:mars-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab", "region 'mars-1'"),
        ("arn:aws:kms:mars-north-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab", "region 'mars-north-1'"),
        ("arn:aws:kms:eu-west-1:1111:key/1234abcd-12ab-34cd-56ef-1234567890ab", "account '1111'"),
        ("arn:aws:kms:eu-west-1:111122223333:key/not-a-key-id", "key/<uuid>"),
        ("arn:aws-cn:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab", "partition aws,"),
        ("arn:aws:kms:cn-north-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab", "partition aws-cn"),
        ("arn:aws:kms:us-gov-west-1:111122223333:alias/sops", "partition aws-us-gov"),
    ],
)
def test_set_rule_refuses_impossible_kms_arns(tmp_path, arn, problem):
    config = tmp_path / ".sops.yaml"
    with pytest.raises(SopsConfigError, match=re.escape(problem)) as info:
        set_rule(config, "x", [], [arn])
    assert "\n" not in str(info.value) and not config.exists()


@pytest.mark.parametrize(
    "arn",
    [
        ARN,
        "arn:aws:kms:us-east-1:123456789012:key/mrk-1234abcd12ab34cd56ef1234567890ab",
        "arn:aws:kms:ap-southeast-2:123456789012:alias/portkey/sops",
        "arn:aws-cn:kms:cn-north-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab",
        "arn:aws-us-gov:kms:us-gov-west-1:111122223333:alias/sops",
    ],
)
def test_set_rule_accepts_real_kms_arns(tmp_path, arn):
    set_rule(tmp_path / ".sops.yaml", "x", [], [arn])
    assert rule_for(tmp_path / "x", tmp_path / ".sops.yaml").kms[0].arn == arn


def test_init_age_keeps_an_existing_kms_recipient_unless_replace(tmp_path, age_pair):
    config = tmp_path / ".sops.yaml"
    set_rule(config, "secrets/.*", [], [ARN])
    change = set_rule(config, "secrets/.*", [age_pair[1]], [])
    rule = rule_for(tmp_path / "secrets" / "env.json", config)
    assert rule.kms == (KmsKey(ARN),) and rule.age == (age_pair[1],)  # both recipients
    assert change.kept == (ARN,) and not change.created
    again = set_rule(config, "secrets/.*", [age_pair[1]], [])  # idempotent: no duplicate
    assert rule_for(tmp_path / "secrets" / "env.json", config).age == (age_pair[1],) and again.kept == (ARN,)
    replaced = set_rule(config, "secrets/.*", [age_pair[1]], [], replace=True)
    rule = rule_for(tmp_path / "secrets" / "env.json", config)
    assert rule.kms == () and rule.age == (age_pair[1],) and replaced.dropped == (ARN,)


def test_missing_rule_is_one_line_naming_init(tmp_path, monkeypatch, age_pair):
    monkeypatch.chdir(tmp_path)
    expected = (
        "no SOPS creation rule for secrets/env.json; run python -m runtime secrets init --age <your age1… key> first"
    )
    with pytest.raises(SopsConfigError) as info:
        rule_for(tmp_path / "secrets" / "env.json")
    assert str(info.value) == expected
    (tmp_path / ".sops.yaml").write_text(f"creation_rules:\n  - path_regex: other/.*\n    age: {age_pair[1]}\n")
    with pytest.raises(SopsConfigError, match=r"^no SOPS creation rule for secrets/env.json in .*secrets init --age"):
        rule_for(tmp_path / "secrets" / "env.json")


def test_repo_ships_no_live_recipient():
    from pathlib import Path

    from runtime.sops.age import is_recipient

    repo = Path(__file__).resolve().parents[3]
    assert not (repo / ".sops.yaml").exists()  # pull cannot encrypt to a recipient nobody holds
    example = (repo / ".sops.example.yaml").read_text()
    assert not IDENTITY.search(example)
    assert not [word for word in re.findall(r"age1\w+", example) if is_recipient(word)]
    with pytest.raises(SopsConfigError, match="is not a KMS key ARN"):  # copied as is, it cannot encrypt
        rule_for(repo / "secrets" / "env.json", repo / ".sops.example.yaml")
