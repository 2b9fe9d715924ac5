"""HTTP layer shared by the API functions: conventions (problem+json, request ids, access rules) and routers."""
