"""Checks of the synthesized template.

Secret hygiene, the scanners (cdk-nag, cfn-lint, parliament) and the CloudFormation schema validation.
"""
