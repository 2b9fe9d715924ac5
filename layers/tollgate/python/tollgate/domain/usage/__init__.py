"""Usage events: what ingestion accepts, rejects and flags, and how accepted events become usage
(seed 000 "Usage Ingestion", seed 001 "Troubleshooting event ingestion"). Pure: no I/O, Decimal only.

An event names a customer (your external id), a meter (by its event name), a time and a quantity:

    {"event_id": "...", "external_customer_id": "cust_123", "event_name": "model.usage",
     "timestamp": "2026-04-17T10:00:00Z", "quantity": 1, "properties": {"credits": 2}}

Seed 000's field names are accepted as they are shown there: ``customerId`` for the customer and
``metricId`` for the meter's event name. A customer API key may leave the customer out: the event is
then the key's own customer's.

Rules, each with its own code (``Code``) and a detail a person can act on:

- ``event_name`` (or ``metricId``) must be the event name of an ACTIVE meter, exactly, case included
  (``METER_NOT_FOUND``: "metric not found", with "did you mean" when only the case differs;
  ``METER_ARCHIVED``);
- the customer must exist (``CUSTOMER_NOT_FOUND``); a customer key sends for its own customer only
  (``CUSTOMER_NOT_ALLOWED``);
- the meter's aggregation field must be present (``AGGREGATION_FIELD_MISSING``) and, for SUM, MAX,
  AVG and LATEST, a JSON number: the string "2" is not 2 (``AGGREGATION_FIELD_NOT_NUMERIC``);
  UNIQUE_COUNT takes strings or numbers (``AGGREGATION_FIELD_INVALID`` otherwise);
- an event whose properties do not match the meter's filters is rejected (``FILTER_NOT_MATCHED``): an
  event name belongs to one active meter, so no other meter would count it, and a silent drop would be
  an unexplained loss;
- ``timestamp``: RFC 3339 with an offset; more than 90 days old is rejected (``TIMESTAMP_TOO_OLD``),
  more than 5 minutes in the future is rejected for clock skew (``TIMESTAMP_IN_FUTURE``), 24 hours or
  more in the past is accepted and flagged LATE;
- numbers are those the pricing engine prices (at most 18 digits written out), negative only on SUM
  meters that allow corrections (``INVALID_QUANTITY``, ``AGGREGATION_FIELD_INVALID``); strings must be
  valid Unicode (a lone surrogate rejects its event, ``INVALID_EVENT``); a UNIQUE_COUNT value takes at
  most ``MAX_DISTINCT_VALUE_LENGTH`` (256) UTF-8 bytes;
- ``event_id`` is the idempotency key (per tenant): the same id with the same payload is a DUPLICATE
  and changes nothing; the same id with another payload is rejected (``IDEMPOTENCY_CONFLICT``).
  Without an ``event_id`` the event is a new event with a server-assigned id (as Stripe's optional
  ``identifier`` and Flexprice do): three identical events count three, and the answer warns
  (``EVENT_ID_ASSIGNED``) that a retry of that request would count them again. Send an event_id to
  make retries safe.

Modules: ``events`` (limits, codes, the event as parsed and as stored), ``numbers`` (the one bounded
reader of numbers and times: JSON literals bounded on their text, the numeric domain billing prices,
Unix seconds), ``canonical`` (byte-stable compact JSON, Decimals as their exact text), ``parsing`` (the
checks that need nothing but the event), ``measure`` (the checks against the meter, and the value it
counts) and ``aggregation`` (accepted events folded into hourly buckets per customer and meter; day and
month windows combine hours).
"""
