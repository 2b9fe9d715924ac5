"""AWS implementations of the ports. boto3 stays here, at the edge."""
