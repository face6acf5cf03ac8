"""Local stand-ins for AWS and Bedrock used by the demo and the tests (never by runtime)."""
