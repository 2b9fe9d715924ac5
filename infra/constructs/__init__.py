"""CDK constructs of the Tollgate stack, one per concern.

Every construct builds from the declarations in :mod:`infra.definitions` (tables, functions, events,
schedules, API routes, state machines); nothing here repeats a name, key or route by hand.

- :mod:`.data`: the DynamoDB tables.
- :mod:`.secrets`: the generated platform-admin credential.
- :mod:`.events`: the event bus, its rules, their SQS queues + DLQs + alarms, the consumers' event sources.
- :mod:`.functions`: the Lambda functions, each with its own least-privilege role, and the layers.
- :mod:`.workflows`: the Step Functions state machines (from the ASL files) and their schedules.
- :mod:`.api`: the REST API, its authorizers and the problem+json gateway responses.
- :mod:`.monitoring`: the alarm topic (every alarm's action), the alarms and the dashboard.
- :mod:`.naming`: small helpers shared by the constructs (construct ids, suppressions).

(The package is imported as ``infra.constructs``; run the app as ``python3 -m infra.app`` or
``python3 infra/app.py``: the latter removes ``infra/`` from ``sys.path`` so that this package does not
shadow the ``constructs`` library.)
"""
