// A stub of POST /v1/ingest/events on 127.0.0.1 that answers what each test scripts:
// "429" (Retry-After), "500", "401", "kill" (destroy the socket), or a 202 that accepts every event
// (an event id already seen is a duplicate, as the real API counts it once).
import http from 'node:http';

export async function startStub(script = []) {
  const requests = [];
  const seen = new Set();
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (chunk) => (body += chunk));
    req.on('end', () => {
      const action = script.shift() || 'accept';
      const events = JSON.parse(body).events;
      requests.push({ at: Date.now(), body, events, action, headers: req.headers });
      if (action === 'kill') return req.socket.destroy();
      if (action === '429') {
        res.writeHead(429, { 'Retry-After': '1', 'Content-Type': 'application/problem+json' });
        return res.end(JSON.stringify({ status: 429, code: 'RATE_LIMITED', detail: 'slow down' }));
      }
      if (action === '500' || action === '401') {
        res.writeHead(Number(action), { 'Content-Type': 'application/problem+json' });
        return res.end(JSON.stringify({ status: Number(action), code: action === '401' ? 'UNAUTHORIZED' : 'INTERNAL_ERROR', detail: 'scripted' }));
      }
      let accepted = 0;
      let duplicates = 0;
      const rejected = [];
      events.forEach((e, index) => {
        if (e.event_name === 'no.such.meter') rejected.push({ index, event_id: e.event_id, code: 'METER_NOT_FOUND', detail: 'metric not found' });
        else if (seen.has(e.event_id)) duplicates += 1;
        else (seen.add(e.event_id), (accepted += 1));
      });
      res.writeHead(202, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify({ accepted, duplicates, rejected, warnings: [] }));
    });
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${server.address().port}`;
  return {
    url,
    requests,
    counted: () => seen.size,
    close: () => new Promise((resolve) => server.close(resolve)),
  };
}
