"""What moto lacks for a plain cdk deploy, supplied inside the local-AWS server process.

Never supplied by changing what the stack does.
"""
