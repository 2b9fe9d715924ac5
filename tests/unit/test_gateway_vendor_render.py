"""The pure parts of the Kong, Azure API Management and Apigee adapters: how a plan's throttle and quota
become each vendor's limits, and the APIM policy document both ways."""

from __future__ import annotations

from tollgate.adapters.gateways.azure_apim import parse_policy, policy_xml
from tollgate.adapters.gateways.kong import rate_limits
from tollgate.domain.integrations.desired import GatewayPlan, Quota, Throttle


def plan(throttle: Throttle | None, quota: Quota | None) -> GatewayPlan:
    return GatewayPlan("pv_1", "plan_1", "Basic", throttle, quota)


def test_kong_windows_from_a_plan() -> None:
    assert rate_limits(plan(None, None)) is None
    assert rate_limits(plan(Throttle(5, 10), Quota(1000, "MONTH"))) == {"second": 5, "month": 1000}
    assert rate_limits(plan(None, Quota(100, "WEEK"))) == {"day": 15}  # the plugin has no week window
    assert rate_limits(plan(Throttle(50, 100), Quota(20, "DAY"))) == {"second": 20, "day": 20}  # Kong's ordering


def test_apim_policy_round_trip_and_foreign_elements() -> None:
    limits = {"rate_limit": {"calls": 5, "renewal_period": 1}, "quota": {"calls": 1000, "renewal_period": 2592000}}
    assert parse_policy(policy_xml(limits)) == (limits, [])
    only_quota = {"rate_limit": None, "quota": {"calls": 7, "renewal_period": 86400}}
    assert parse_policy(policy_xml(only_quota)) == (only_quota, [])
    foreign = policy_xml(limits).replace("<base />", '<base /><set-header name="x" exists-action="override" />', 1)
    assert parse_policy(foreign) == (limits, ["set-header"])
    assert parse_policy("<policies><inbound><quota calls='{{named}}' renewal-period='60'/></inbound></policies>")[
        1
    ] == ["quota"]
    assert parse_policy("not xml")[1] == ["<unparsable policy>"]
