"""The Connect API (boto3 ``connect``): one handler per operation, grouped by resource."""
