"""CloudFormation resources of the spend controls (issue 21) that moto 5.2 lacks or gets wrong.

moto's CloudFormation silently skips ``AWS::Budgets::Budget``, ``AWS::Budgets::BudgetsAction``,
``AWS::CloudWatch::Alarm`` and ``AWS::SNS::Subscription`` (the stack reaches CREATE_COMPLETE without
them), and creates ``AWS::IAM::User`` without its ``Tags`` and replaces the user (a new user: every
attachment made outside the template lost) on any property update, where AWS updates tags in place.
:func:`register_spend_models` adds models backed by moto's own Budgets, CloudWatch, SNS and IAM
backends. moto has no budget actions at all: an action is kept in :data:`BUDGET_ACTIONS` (in the
server process) and never executed; a test trips it as AWS Budgets would, through its role.
"""

from __future__ import annotations

import uuid
from typing import Any

from local.moto_patches.cfn_model import CfnResource, forget_model_cache, props_of

# (account, budget name) -> the actions' properties, as CloudFormation gave them
BUDGET_ACTIONS: dict[tuple[str, str], dict[str, dict[str, Any]]] = {}

_registered = False
_MODELS: list[type[Any]] = []


def register_spend_models() -> None:
    """Teach moto's CloudFormation the spend resources; idempotent."""
    global _registered
    if _registered:
        return
    from moto.budgets.models import budgets_backends
    from moto.cloudwatch.models import cloudwatch_backends
    from moto.core.common_models import CloudFormationModel
    from moto.iam.models import User, iam_backends
    from moto.sns.models import sns_backends
    from moto.utilities.utils import get_partition

    class Budget(CfnResource, CloudFormationModel):
        __module__ = "moto.budgets.cloudformation_budget"  # moto files models by this service name
        CFN_TYPE = "AWS::Budgets::Budget"

        @staticmethod
        def backend(account_id: str) -> Any:
            return budgets_backends[account_id][get_partition("us-east-1")]

        @classmethod
        def create_from_cloudformation_json(
            cls, resource_name: str, cloudformation_json: dict[str, Any], account_id: str, region_name: str, **kw: Any
        ) -> Any:
            props = props_of(cloudformation_json)
            budget = dict(props["Budget"])
            budget.setdefault("BudgetName", resource_name)
            limit = budget.get("BudgetLimit")
            if limit:  # the API takes the amount as a string
                budget["BudgetLimit"] = {"Amount": str(limit["Amount"]), "Unit": limit["Unit"]}
            notifications = [
                {"Notification": n["Notification"], "Subscribers": n["Subscribers"]}
                for n in props.get("NotificationsWithSubscribers", [])
            ]
            cls.backend(account_id).create_budget(account_id, budget, notifications)
            return cls(budget["BudgetName"], props, account_id, region_name)

        @classmethod
        def update_from_cloudformation_json(
            cls, original_resource: Any, new_resource_name: str, cloudformation_json: dict[str, Any],
            account_id: str, region_name: str,
        ) -> Any:  # fmt: skip
            cls.delete_from_cloudformation_json(original_resource.physical_id, {}, account_id, region_name)
            return cls.create_from_cloudformation_json(new_resource_name, cloudformation_json, account_id, region_name)

        @classmethod
        def delete_from_cloudformation_json(
            cls, resource_name: str, cloudformation_json: dict[str, Any], account_id: str, region_name: str
        ) -> None:
            cls.backend(account_id).delete_budget(account_id, resource_name)

    class BudgetsAction(CfnResource, CloudFormationModel):
        __module__ = "moto.budgets.cloudformation_action"
        CFN_TYPE = "AWS::Budgets::BudgetsAction"

        @classmethod
        def create_from_cloudformation_json(
            cls, resource_name: str, cloudformation_json: dict[str, Any], account_id: str, region_name: str, **kw: Any
        ) -> Any:
            props = props_of(cloudformation_json)
            budget = props["BudgetName"]
            Budget.backend(account_id).describe_budget(account_id, budget)  # AWS: the budget must exist
            action_id = str(uuid.uuid4())
            BUDGET_ACTIONS.setdefault((account_id, budget), {})[action_id] = props
            return cls(action_id, props, account_id, region_name)

        @classmethod
        def update_from_cloudformation_json(
            cls, original_resource: Any, new_resource_name: str, cloudformation_json: dict[str, Any],
            account_id: str, region_name: str,
        ) -> Any:  # fmt: skip
            props = props_of(cloudformation_json)
            for actions in BUDGET_ACTIONS.values():
                if original_resource.physical_id in actions:
                    actions[original_resource.physical_id] = props
            original_resource.props = props
            return original_resource

        @classmethod
        def delete_from_cloudformation_json(
            cls, resource_name: str, cloudformation_json: dict[str, Any], account_id: str, region_name: str
        ) -> None:
            for actions in BUDGET_ACTIONS.values():
                actions.pop(resource_name, None)

    class Alarm(CfnResource, CloudFormationModel):
        __module__ = "moto.cloudwatch.cloudformation_alarm"
        CFN_TYPE = "AWS::CloudWatch::Alarm"
        NAME_TYPE = "AlarmName"

        @classmethod
        def create_from_cloudformation_json(
            cls, resource_name: str, cloudformation_json: dict[str, Any], account_id: str, region_name: str, **kw: Any
        ) -> Any:
            props = props_of(cloudformation_json)
            name = props.get("AlarmName", resource_name)
            cloudwatch_backends[account_id][region_name].put_metric_alarm(
                name=name,
                namespace=props.get("Namespace", ""),
                metric_name=props.get("MetricName", ""),
                comparison_operator=props["ComparisonOperator"],
                evaluation_periods=int(props["EvaluationPeriods"]),
                period=int(props.get("Period", 60)),
                threshold=float(props.get("Threshold", 0)),
                statistic=props.get("Statistic", "Sum"),
                description=props.get("AlarmDescription", ""),
                dimensions=list(props.get("Dimensions", [])),
                alarm_actions=list(props.get("AlarmActions", [])),
                ok_actions=list(props.get("OKActions", [])),
                treat_missing_data=props.get("TreatMissingData"),
            )
            return cls(name, props, account_id, region_name)

        @classmethod
        def update_from_cloudformation_json(
            cls, original_resource: Any, new_resource_name: str, cloudformation_json: dict[str, Any],
            account_id: str, region_name: str,
        ) -> Any:  # fmt: skip
            cls.delete_from_cloudformation_json(original_resource.physical_id, {}, account_id, region_name)
            json = {"Properties": {"AlarmName": original_resource.physical_id, **props_of(cloudformation_json)}}
            return cls.create_from_cloudformation_json(new_resource_name, json, account_id, region_name)

        @classmethod
        def delete_from_cloudformation_json(
            cls, resource_name: str, cloudformation_json: dict[str, Any], account_id: str, region_name: str
        ) -> None:
            cloudwatch_backends[account_id][region_name].delete_alarms([resource_name])

    class Subscription(CfnResource, CloudFormationModel):
        __module__ = "moto.sns.cloudformation_subscription"
        CFN_TYPE = "AWS::SNS::Subscription"

        @classmethod
        def create_from_cloudformation_json(
            cls, resource_name: str, cloudformation_json: dict[str, Any], account_id: str, region_name: str, **kw: Any
        ) -> Any:
            props = props_of(cloudformation_json)
            topic = props["TopicArn"]
            backend = sns_backends[account_id][topic.split(":")[3]]
            subscription = backend.subscribe(topic, props.get("Endpoint", ""), props["Protocol"])
            return cls(subscription.arn, props, account_id, region_name)

        @classmethod
        def delete_from_cloudformation_json(
            cls, resource_name: str, cloudformation_json: dict[str, Any], account_id: str, region_name: str
        ) -> None:
            sns_backends[account_id][resource_name.split(":")[3]].unsubscribe(resource_name)

    original_create = User.create_from_cloudformation_json.__func__  # type: ignore[attr-defined]

    def create_user(cls: Any, /, resource_name: str, cloudformation_json: dict[str, Any], account_id: str,
                    region_name: str, **kw: Any) -> Any:  # fmt: skip
        user = original_create(cls, resource_name, cloudformation_json, account_id, region_name, **kw)
        tags = props_of(cloudformation_json).get("Tags")
        if tags:
            iam_backends[account_id][get_partition(region_name)].tag_user(user.name, tags)
        return user

    def update_user(cls: Any, /, original_resource: Any, new_resource_name: str, cloudformation_json: dict[str, Any],
                    account_id: str, region_name: str) -> Any:  # fmt: skip
        props = props_of(cloudformation_json)
        if props.get("UserName", original_resource.name) != original_resource.name:  # AWS: a new name replaces
            cls.delete_from_cloudformation_json(original_resource.name, cloudformation_json, account_id, region_name)
            return cls.create_from_cloudformation_json(props["UserName"], cloudformation_json, account_id, region_name)
        iam = iam_backends[account_id][get_partition(region_name)]
        wanted = {t["Key"]: t["Value"] for t in props.get("Tags", [])}
        stale = [key for key in iam.tagger.get_tag_dict_for_resource(original_resource.arn) if key not in wanted]
        if stale:
            iam.untag_user(original_resource.name, stale)
        if wanted:
            iam.tag_user(original_resource.name, props["Tags"])
        if "Path" in props:
            original_resource.path = props["Path"]
        return original_resource  # tags change in place; attachments made outside the template stay

    setattr(User, "create_from_cloudformation_json", classmethod(create_user))  # noqa: B010 (patching moto)
    setattr(User, "update_from_cloudformation_json", classmethod(update_user))  # noqa: B010
    _MODELS.extend([Budget, BudgetsAction, Alarm, Subscription])  # __subclasses__() holds weak references
    forget_model_cache()
    _registered = True
