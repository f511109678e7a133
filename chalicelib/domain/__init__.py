"""Pure domain rules. Nothing in this package imports AWS code (boto3, botocore, pynamodb, chalice)."""
