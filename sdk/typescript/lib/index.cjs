'use strict';
/**
 * Tollgate's metering SDK for Node.js (20+). No dependencies: global fetch, node:crypto.
 *
 * ingest() queues an event (with its eventId, so every retry is safe) and returns at once; a batch leaves
 * at `flushAt` events (100) or every `flushIntervalMs` (5 s). The timer does not keep the process alive:
 * a script, a CLI or a Lambda must `await client.flush()` (or `await client.shutdown()`) before it ends,
 * otherwise the buffer is lost -- and a warning on exit says how many events were.
 */
const { randomUUID } = require('node:crypto');

const MAX_BATCH_EVENTS = 1000;
const MAX_PROPERTIES_BYTES = 16384;
const INGEST_PATH = '/v1/ingest/events';
const VERSION = '0.1.0';

class TollgateError extends Error {
  constructor(message, { status = null, code = null, detail = '' } = {}) {
    super(message);
    this.name = 'TollgateError';
    this.status = status;
    this.code = code;
    this.detail = detail;
  }
}

class InvalidEventError extends TollgateError {
  constructor(message) {
    super(message);
    this.name = 'InvalidEventError';
  }
}

function checkString(value, name, limit) {
  if (typeof value !== 'string' || value.trim() === '' || value.length > limit) {
    throw new InvalidEventError(`${name} must be a non-empty string of at most ${limit} characters, not ${JSON.stringify(value)}.`);
  }
  return value;
}

function buildEvent({ eventName, externalCustomerId, quantity = 1, properties, timestamp, eventId } = {}) {
  const event = {
    event_id: eventId === undefined ? randomUUID() : checkString(eventId, 'eventId', 255),
    event_name: checkString(eventName, 'eventName', 200),
    timestamp: timestamp === undefined ? new Date().toISOString() : toTimestamp(timestamp),
  };
  if (externalCustomerId !== undefined) event.external_customer_id = checkString(externalCustomerId, 'externalCustomerId', 255);
  if (quantity !== undefined && quantity !== null) {
    if (typeof quantity !== 'number' || !Number.isFinite(quantity)) {
      throw new InvalidEventError(`quantity must be a finite number, not ${JSON.stringify(quantity)}.`);
    }
    event.quantity = quantity;
  }
  if (properties !== undefined && properties !== null) {
    if (typeof properties !== 'object' || Array.isArray(properties)) {
      throw new InvalidEventError('properties must be a plain object.');
    }
    const size = Buffer.byteLength(JSON.stringify(properties));
    if (size > MAX_PROPERTIES_BYTES) {
      throw new InvalidEventError(
        `properties take ${size} bytes as JSON; the API refuses more than ${MAX_PROPERTIES_BYTES} (EVENT_TOO_LARGE). Send only what meters need.`,
      );
    }
    event.properties = properties;
  }
  return event;
}

function toTimestamp(value) {
  if (value instanceof Date) {
    if (Number.isNaN(value.getTime())) throw new InvalidEventError('timestamp is an invalid Date.');
    return value.toISOString();
  }
  if (typeof value === 'string' && value) return value;
  throw new InvalidEventError('timestamp must be a Date or an RFC 3339 string.');
}

function retryAfterMs(header) {
  if (!header) return null;
  const seconds = Number(header);
  if (Number.isFinite(seconds)) return Math.min(Math.max(seconds, 0), 300) * 1000;
  const at = Date.parse(header);
  return Number.isNaN(at) ? null : Math.min(Math.max(at - Date.now(), 0), 300000);
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

const liveClients = new Set();
let exitHookInstalled = false;

function installExitHook() {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const client of liveClients) client._warnIfUnsent();
  });
}

class TollgateClient {
  constructor(options = {}) {
    const {
      apiUrl,
      apiKey,
      tenantId = null,
      flushAt = 100,
      flushIntervalMs = 5000,
      maxQueueSize = 10000,
      maxRetries = 5,
      backoffBaseMs = 500,
      backoffMaxMs = 30000,
      timeoutMs = 10000,
      send = true,
      onRejected = null,
      onError = null,
      onDrop = null,
      fetch: fetchImpl = globalThis.fetch,
    } = options;
    if (!apiUrl || !apiKey) throw new TypeError("apiUrl and apiKey are required, e.g. new TollgateClient({ apiUrl: 'https://…', apiKey: 'sk_live_…' }).");
    if (!(flushAt >= 1 && flushAt <= MAX_BATCH_EVENTS)) throw new RangeError('flushAt must be between 1 and 1000 (the API limit).');
    this.options = { apiUrl: apiUrl.replace(/\/+$/, ''), apiKey, tenantId, flushAt, flushIntervalMs, maxQueueSize, maxRetries, backoffBaseMs, backoffMaxMs, timeoutMs, send };
    this.callbacks = { onRejected, onError, onDrop };
    this._fetch = fetchImpl;
    this._queue = [];
    this._queuedTotal = 0;
    this._settledTotal = 0;
    this._timer = null;
    this._draining = null;
    this._waiters = [];
    this._closed = false;
    this._stats = { sent: 0, duplicates: 0, retried: 0, rejected: 0, dropped: 0, failed: 0, requests: 0 };
    this.capturedEvents = [];
    liveClients.add(this);
    installExitHook();
  }

  /** Queue one event; returns its eventId (given, or made now). Throws InvalidEventError at once for a bad event. */
  ingest(input) {
    const event = buildEvent(input);
    if (this._closed) throw new TollgateError('This client is shut down: create a new TollgateClient to send more events.');
    if (this._queue.length >= this.options.maxQueueSize) {
      this._stats.dropped += 1;
      const reason = `queue full (${this.options.maxQueueSize} events): the API is slower than the events come`;
      if (this.callbacks.onDrop) safeCall(this.callbacks.onDrop, event, reason);
      else process.emitWarning(`tollgate: event ${event.event_id} dropped: ${reason}`);
      return event.event_id;
    }
    this._queue.push(event);
    this._queuedTotal += 1;
    if (this._queue.length >= this.options.flushAt) this._drain();
    else this._arm();
    return event.event_id;
  }

  /** Send everything queued so far; resolves once it is sent (or rejected, or failed). */
  async flush() {
    const target = this._queuedTotal;
    if (this._settledTotal >= target) return;
    const done = new Promise((resolve) => this._waiters.push({ target, resolve }));
    this._drain();
    await done;
  }

  /** Flush, then stop: the client takes no more events. */
  async shutdown() {
    await this.flush();
    this._closed = true;
    if (this._timer) clearTimeout(this._timer);
    this._timer = null;
    liveClients.delete(this);
  }

  stats() {
    return { queued: this._queue.length, ...this._stats };
  }

  _arm() {
    if (this._timer || this._queue.length === 0) return;
    this._timer = setTimeout(() => {
      this._timer = null;
      this._drain();
    }, this.options.flushIntervalMs);
    this._timer.unref(); // never keeps the process alive: see flush()
  }

  _drain() {
    if (this._draining) return this._draining;
    this._draining = (async () => {
      while (this._queue.length > 0) {
        const batch = this._queue.splice(0, MAX_BATCH_EVENTS);
        try {
          await this._deliver(batch);
        } catch (error) {
          this._failed(batch, error);
        }
        this._settledTotal += batch.length;
        this._waiters = this._waiters.filter((w) => (this._settledTotal >= w.target ? (w.resolve(), false) : true));
      }
    })().finally(() => {
      this._draining = null;
      this._arm();
    });
    return this._draining;
  }

  _headers() {
    const headers = {
      Authorization: `Bearer ${this.options.apiKey}`,
      'Content-Type': 'application/json',
      'User-Agent': `tollgate-sdk-node/${VERSION}`,
    };
    if (this.options.tenantId) headers['X-Tenant-Id'] = this.options.tenantId;
    return headers;
  }

  async _deliver(batch) {
    if (!this.options.send) {
      this.capturedEvents.push(...batch);
      this._settled(batch, { accepted: batch.length, duplicates: 0, rejected: [] });
      return;
    }
    const body = JSON.stringify({ events: batch });
    const { maxRetries, backoffBaseMs, backoffMaxMs, timeoutMs } = this.options;
    for (let attempt = 0; ; attempt += 1) {
      let error;
      let wait = null;
      try {
        this._stats.requests += 1;
        const response = await this._fetch(this.options.apiUrl + INGEST_PATH, {
          method: 'POST',
          headers: this._headers(),
          body,
          signal: AbortSignal.timeout(timeoutMs),
        });
        const text = await response.text();
        const json = parseJson(text);
        if (response.ok) return this._settled(batch, json || {});
        error = new TollgateError(`HTTP ${response.status} ${(json && json.code) || ''}: ${(json && json.detail) || text.slice(0, 300)}`.trim(), {
          status: response.status,
          code: json && json.code,
          detail: (json && json.detail) || '',
        });
        if (response.status !== 429 && response.status < 500) return this._failed(batch, error);
        wait = retryAfterMs(response.headers.get('retry-after'));
      } catch (caught) {
        error = new TollgateError(`network error: ${caught && caught.message}`, { detail: String(caught) });
      }
      if (attempt >= maxRetries) return this._failed(batch, error);
      const jitter = Math.random() * Math.min(backoffMaxMs, backoffBaseMs * 2 ** attempt);
      this._stats.retried += 1;
      await sleep(wait === null ? jitter : Math.max(wait, jitter));
    }
  }

  _settled(batch, body) {
    const rejected = Array.isArray(body.rejected) ? body.rejected : [];
    this._stats.sent += (body.accepted || 0) + (body.duplicates || 0);
    this._stats.duplicates += body.duplicates || 0;
    this._stats.rejected += rejected.length;
    for (const r of rejected) {
      const event = batch[r.index] || {};
      if (this.callbacks.onRejected) safeCall(this.callbacks.onRejected, event, r.code, r.detail);
      else process.emitWarning(`tollgate: event ${event.event_id} rejected: ${r.code}: ${r.detail}`);
    }
  }

  _failed(batch, error) {
    this._stats.failed += batch.length;
    if (this.callbacks.onError) safeCall(this.callbacks.onError, error, batch);
    else process.emitWarning(`tollgate: ${batch.length} events not delivered: ${error.message}`);
  }

  _warnIfUnsent() {
    const unsent = this._queuedTotal - this._settledTotal;
    if (unsent > 0) {
      process.stderr.write(
        `tollgate: ${unsent} usage events were still buffered when the process exited and are LOST. ` +
          'Call `await client.flush()` (or `await client.shutdown()`) before the process exits ' +
          '(scripts, CLIs, serverless handlers).\n',
      );
    }
  }
}

function parseJson(text) {
  try {
    return text ? JSON.parse(text) : null;
  } catch {
    return null;
  }
}

function safeCall(callback, ...args) {
  try {
    callback(...args);
  } catch (error) {
    process.emitWarning(`tollgate: a callback threw (ignored): ${error && error.message}`);
  }
}

module.exports = { TollgateClient, TollgateError, InvalidEventError, MAX_BATCH_EVENTS, MAX_PROPERTIES_BYTES, VERSION };
