"""Gateway integrations (issue 19): connecting a tenant's own API gateway (AWS API Gateway, Kong, Azure API
Management, Apigee), pushing what Tollgate decides to it, detecting drift and restoring."""
