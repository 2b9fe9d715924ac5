"""DynamoDB adapters. Key layout of the main table (every key starts with the tenant, except the
key-hash lookup the authorizer needs before it knows the tenant):

| item            | pk                        | sk                          | gsi1pk             | gsi1sk     |
|-----------------|---------------------------|-----------------------------|--------------------|------------|
| tenant          | T#<tenant>                | TENANT                      |                    |            |
| api key         | KEY#<sha256>              | KEY                         | T#<tenant>#KEYS    | <key_id>   |
| outbox event    | T#<tenant>#OUTBOX         | <occurred_at>#<event_id>    |                    |            |
| event log entry | T#<tenant>#EVENTLOG       | <occurred_at>#<event_id>    |                    |            |
| product         | T#<tenant>                | PRODUCT#<product_id>        |                    |            |
| meter           | T#<tenant>                | METER#<meter_id>            | (1)                | METER#<id> |
| meter name claim| T#<tenant>                | METER_EVENT#<event_name>    |                    |            |
| plan            | T#<tenant>                | PLAN#<plan_id>              |                    |            |
| plan version    | T#<tenant>                | PLANVER#<plan_id>#<0000000001> |                 |            |

(1) ``T#<tenant>#METER_EVENT#<casefolded event name>``. Every key is built in ``keys.py``.
"""
