"""The stack's constructs, one per concern: the invoke policy, and the access key(s) with their KMS key and secret."""
