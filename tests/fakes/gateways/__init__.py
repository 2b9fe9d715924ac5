"""Local HTTP fakes of the gateway vendors' management APIs (Kong Admin API / Konnect, Azure Resource
Manager + Entra ID token endpoint for API Management, Apigee API v1), served on 127.0.0.1 so the real
adapters in ``tollgate.adapters.gateways`` run against them over HTTP."""
