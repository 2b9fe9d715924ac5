"""Pure business rules. Nothing in this package may import boto3 or do I/O."""
