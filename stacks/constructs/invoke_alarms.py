"""The construct that raises CloudWatch alarms on Bedrock's ``InvocationThrottles`` and
``InvocationClientErrors`` (namespace ``AWS/Bedrock``, dimension ``ModelId``) for each allowed
model, to the budget's notification target (the operator's SNS topic, or a topic made here for
the emails).

CloudWatch alarms watch metrics of their own Region, so these cover the deploy Region; Bedrock
publishes a source Region's metrics in that Region (see README "Spend").
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from aws_cdk import Acknowledgment, Duration, Validations
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as actions
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from constructs import Construct

from stacks.spend_settings import SpendSettings

if TYPE_CHECKING:
    from collections.abc import Sequence

NAMESPACE = "AWS/Bedrock"
ALARMS = {
    "InvocationThrottles": "Bedrock throttled {model} in {region}: add a source region (source_regions) "
    "or a fallback model to spread the load",
    "InvocationClientErrors": "Bedrock rejected calls to {model} in {region} (key, policy or request problem): "
    "run python -m runtime doctor",
}


def alarm_id(metric: str, model_id: str) -> str:
    """A construct id for one alarm (CloudFormation logical ids take letters and digits only).

    >>> alarm_id("InvocationThrottles", "us.anthropic.claude-sonnet-4-6")
    'InvocationThrottlesusanthropicclaudesonnet46'
    """
    return metric + "".join(ch for ch in model_id if ch.isalnum())


class InvokeAlarms(Construct):
    """Two alarms per model id, each notifying `topic` (created for the emails when none is given)."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        region: str,
        model_ids: Sequence[str],
        spend: SpendSettings,
    ) -> None:
        super().__init__(scope, construct_id)
        if spend.notify_topic_arn:
            self.topic = sns.Topic.from_topic_arn(self, "Topic", spend.notify_topic_arn)
        else:
            topic = sns.Topic(self, "Topic", display_name="Portkey Bedrock access alarms", enforce_ssl=True)
            for email in spend.notify_emails:
                topic.add_subscription(subscriptions.EmailSubscription(email))
            Validations.of(topic).acknowledge(
                Acknowledgment(
                    id="AwsSolutions-SNS2",
                    reason="alarm notifications carry no secret (alarm name, model id, region); CloudWatch "
                    "cannot publish to a topic under the AWS-managed SNS key, and a customer key for "
                    "notices alone is not worth its cost",
                )
            )
            self.topic = topic
        self.alarms: list[cloudwatch.Alarm] = []
        for model_id in model_ids:
            for metric, description in ALARMS.items():
                alarm = cloudwatch.Alarm(
                    self,
                    alarm_id(metric, model_id),
                    alarm_description=description.format(model=model_id, region=region),
                    metric=cloudwatch.Metric(
                        namespace=NAMESPACE,
                        metric_name=metric,
                        dimensions_map={"ModelId": model_id},
                        statistic="Sum",
                        period=Duration.minutes(5),
                    ),
                    threshold=1,
                    evaluation_periods=1,
                    comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
                    treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
                )
                alarm.add_alarm_action(actions.SnsAction(self.topic))
                self.alarms.append(alarm)
