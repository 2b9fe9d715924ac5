"""The ext_authz route's credential (issue 15): api.json's gateway_key authorizer caches on the header the
authorizer function reads the GATEWAY key from, on exactly the route it is declared for."""

from infra import definitions
from tollgate.usecases.authorize import EXT_AUTHZ_RESOURCE, GATEWAY_KEY_HEADER, credential_header_for


def test_api_json_and_the_authorizer_agree_on_the_gateway_key_header():
    api = definitions.api()
    (route,) = [r for r in api.routes if r.authorizer == "gateway_key"]
    auth = api.authorizers["gateway_key"]
    assert route.path == EXT_AUTHZ_RESOURCE
    assert auth.credential_header == GATEWAY_KEY_HEADER in auth.identity_headers
    assert credential_header_for(EXT_AUTHZ_RESOURCE) == GATEWAY_KEY_HEADER
    for other in api.authorizers.values():
        if other is not auth:
            assert other.credential_header == "Authorization" in other.identity_headers
    assert credential_header_for("/v1/{proxy+}") == "Authorization"
