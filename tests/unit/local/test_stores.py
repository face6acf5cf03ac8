import json

import boto3
import pytest
from moto import mock_aws

from local.bedrock_double.stores import DictKeyStore, DictPolicyStore, KeyRecord, MotoKeyStore, MotoPolicyStore

ALLOW = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "bedrock:InvokeModel", "Resource": "*"}]}
DENY = {"Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Action": "*", "Resource": "*"}]}
INLINE = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]}


@pytest.fixture
def iam():
    with mock_aws():
        yield boto3.client("iam", region_name="us-east-1")


def test_key_record_hides_the_secret():
    record = KeyRecord("u", "arn:aws:iam::111122223333:user/u", "very-secret")
    assert "very-secret" not in repr(record)
    assert record.account == "111122223333"


def test_dict_stores():
    keys = DictKeyStore()
    record = keys.add("AKIA1", "s", "bob", account="111122223333", active=False)
    assert keys.secret_for("AKIA1") == record
    assert record.user_arn == "arn:aws:iam::111122223333:user/bob"
    assert keys.secret_for("AKIA2") is None
    policies = DictPolicyStore({"bob": [ALLOW]})
    assert policies.documents_for(record.user_arn) == [ALLOW]
    assert policies.documents_for("arn:aws:iam::1:user/carol") == []


def test_moto_key_store_reads_secret_and_status(iam):
    iam.create_user(UserName="svc", Path="/bedrock/")
    key = iam.create_access_key(UserName="svc")["AccessKey"]
    store = MotoKeyStore()
    record = store.secret_for(key["AccessKeyId"])
    assert record is not None
    assert record.secret == key["SecretAccessKey"]
    assert record.user_name == "svc"
    assert record.user_arn == "arn:aws:iam::123456789012:user/bedrock/svc"
    assert record.active
    iam.update_access_key(UserName="svc", AccessKeyId=key["AccessKeyId"], Status="Inactive")
    record = store.secret_for(key["AccessKeyId"])
    assert record is not None
    assert not record.active
    iam.delete_access_key(UserName="svc", AccessKeyId=key["AccessKeyId"])
    assert store.secret_for(key["AccessKeyId"]) is None
    assert store.secret_for("AKIANOSUCHKEY0000000") is None


def test_moto_policy_store_reads_default_versions_inline_and_groups(iam):
    iam.create_user(UserName="svc")
    arn = iam.create_policy(PolicyName="p", PolicyDocument=json.dumps(ALLOW))["Policy"]["Arn"]
    iam.attach_user_policy(UserName="svc", PolicyArn=arn)
    iam.put_user_policy(UserName="svc", PolicyName="inline", PolicyDocument=json.dumps(INLINE))
    iam.create_group(GroupName="g")
    iam.add_user_to_group(GroupName="g", UserName="svc")
    iam.put_group_policy(GroupName="g", PolicyName="gp", PolicyDocument=json.dumps(DENY))
    store = MotoPolicyStore()
    user_arn = "arn:aws:iam::123456789012:user/svc"
    assert store.documents_for(user_arn) == [ALLOW, INLINE, DENY]
    # a new default version replaces the old one
    iam.create_policy_version(PolicyArn=arn, PolicyDocument=json.dumps(INLINE), SetAsDefault=True)
    assert store.documents_for(user_arn) == [INLINE, INLINE, DENY]
    iam.detach_user_policy(UserName="svc", PolicyArn=arn)
    assert store.documents_for(user_arn) == [INLINE, DENY]
    assert store.documents_for("arn:aws:iam::123456789012:user/nobody") == []
