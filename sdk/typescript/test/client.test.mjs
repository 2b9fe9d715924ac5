// The TypeScript/Node SDK's semantics, against a stub of the ingestion API on 127.0.0.1.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';

import { InvalidEventError, TollgateClient } from '../lib/index.mjs';
import { startStub } from './stub.mjs';

const LIB = fileURLToPath(new URL('../lib/', import.meta.url));
async function opened(t, script) {
  const stub = await startStub(script);
  t.after(() => stub.close());
  return stub;
}

const client = (stub, options = {}) => new TollgateClient({ apiUrl: stub.url, apiKey: 'sk_test_x', tenantId: 'ten_1', backoffBaseMs: 10, ...options });

test('250 events: a batch leaves at 100, flush() sends the rest, each counts once', async (t) => {
  const stub = await opened(t);
  const c = client(stub);
  for (let i = 0; i < 250; i += 1) c.ingest({ eventName: 'api.call', externalCustomerId: 'acme' });
  await c.flush();
  const sizes = stub.requests.map((r) => r.events.length);
  assert.equal(sizes[0], 100, 'the first batch left by itself at 100 events');
  assert.ok(sizes.length <= 3 && sizes.every((n) => n <= 1000), `batches ${sizes}`);
  assert.equal(stub.counted(), 250);
  assert.deepEqual(c.stats(), { queued: 0, sent: 250, duplicates: 0, retried: 0, rejected: 0, dropped: 0, failed: 0, requests: sizes.length });
  assert.equal(stub.requests[0].headers['x-tenant-id'], 'ten_1');
  assert.equal(stub.requests[0].headers.authorization, 'Bearer sk_test_x');
  await c.shutdown();
});

test('a batch leaves by itself after flushIntervalMs', async (t) => {
  const stub = await opened(t);
  const c = client(stub, { flushIntervalMs: 50 });
  c.ingest({ eventName: 'api.call', externalCustomerId: 'acme' });
  await new Promise((resolve) => setTimeout(resolve, 300));
  assert.equal(stub.counted(), 1);
  await c.shutdown();
});

test('429 with Retry-After is retried no sooner, with the same event ids, and counts once', async (t) => {
  const stub = await opened(t, ['429']);
  const c = client(stub);
  for (let i = 0; i < 20; i += 1) c.ingest({ eventName: 'api.call', externalCustomerId: 'acme' });
  await c.flush();
  const [first, second] = stub.requests;
  assert.equal(first.action, '429');
  assert.ok(second.at - first.at >= 1000, `retried after ${second.at - first.at} ms`);
  assert.equal(first.body, second.body);
  assert.equal(stub.counted(), 20);
  assert.equal(c.stats().retried, 1);
});

test('a killed connection and a 500 are retried; the events count once', async (t) => {
  const stub = await opened(t, ['kill', '500']);
  const c = client(stub);
  c.ingest({ eventName: 'api.call', externalCustomerId: 'acme' });
  await c.flush();
  assert.deepEqual(stub.requests.map((r) => r.action), ['kill', '500', 'accept']);
  assert.equal(stub.counted(), 1);
  assert.equal(c.stats().sent, 1);
});

test('a 4xx is not retried and reaches onError; rejections reach onRejected', async (t) => {
  const stub = await opened(t, ['401']);
  const errors = [];
  const rejected = [];
  const c = client(stub, { onError: (e, events) => errors.push([e.status, events.length]), onRejected: (e, code) => rejected.push([e.event_id, code]) });
  c.ingest({ eventName: 'api.call', externalCustomerId: 'acme' });
  await c.flush();
  assert.deepEqual(errors, [[401, 1]]);
  const bad = c.ingest({ eventName: 'no.such.meter', externalCustomerId: 'acme' });
  await c.flush();
  assert.deepEqual(rejected, [[bad, 'METER_NOT_FOUND']]);
  assert.equal(c.stats().requests, 2);
});

test('bad events are refused at ingest() with a clear error; a full queue drops with onDrop', () => {
  const c = new TollgateClient({ apiUrl: 'http://127.0.0.1:9', apiKey: 'k', send: false, maxQueueSize: 2, flushAt: 1000 });
  assert.throws(() => c.ingest({ eventName: 'a', properties: { blob: 'x'.repeat(17000) } }), /16384/);
  assert.throws(() => c.ingest({ eventName: 'a', quantity: '2' }), InvalidEventError);
  assert.throws(() => c.ingest({ eventName: '' }), /eventName/);
  const drops = [];
  const d = new TollgateClient({ apiUrl: 'http://127.0.0.1:9', apiKey: 'k', send: false, maxQueueSize: 2, flushAt: 1000, onDrop: (e, why) => drops.push(why) });
  for (let i = 0; i < 3; i += 1) d.ingest({ eventName: 'a' });
  assert.equal(drops.length, 1);
  assert.equal(d.stats().dropped, 1);
});

function runScript(source) {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--input-type=module', '-e', source], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk) => (stderr += chunk));
    child.on('close', (code) => resolve({ code, stderr }));
  });
}

const script = (url, flush) => `
  import { TollgateClient } from ${JSON.stringify(LIB + 'index.mjs')};
  const client = new TollgateClient({ apiUrl: ${JSON.stringify(url)}, apiKey: 'sk_test_x' });
  for (let i = 0; i < 5; i += 1) client.ingest({ eventName: 'api.call', externalCustomerId: 'acme' });
  ${flush ? 'await client.flush();' : ''}
  process.exit(0);
`;

test('seed 000 "events buffering but not sending": exit without flush loses the buffer and says so', async (t) => {
  const stub = await opened(t);
  const { code, stderr } = await runScript(script(stub.url, false));
  assert.equal(code, 0);
  assert.equal(stub.requests.length, 0, 'nothing was sent: the 5 events died in the buffer');
  assert.match(stderr, /5 usage events were still buffered when the process exited and are LOST/);
  assert.match(stderr, /await client\.flush\(\)/);
});

test('await flush() before exit fixes it: every event sent, no warning', async (t) => {
  const stub = await opened(t);
  const { code, stderr } = await runScript(script(stub.url, true));
  assert.equal(code, 0);
  assert.equal(stub.counted(), 5);
  assert.equal(stderr, '');
});

test('the CommonJS build is the same package', () => {
  const require = createRequire(import.meta.url);
  const cjs = require('../lib/index.cjs');
  assert.equal(typeof cjs.TollgateClient, 'function');
  assert.equal(cjs.MAX_BATCH_EVENTS, 1000);
});
