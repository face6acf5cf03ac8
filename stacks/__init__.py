"""The CDK app: the portkey-bedrock-access user, its least-privilege policy and credential secret."""
