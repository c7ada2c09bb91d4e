/**
 * Issue #15 §4: slow clients cannot hold connections. A bounded number of connections that
 * dribble their headers or their body one byte at a time are closed by the server once
 * TOLLGATE_HEADERS_TIMEOUT / TOLLGATE_REQUEST_TIMEOUT pass (408), and the server keeps answering
 * everyone else meanwhile. Loopback only; the test stops its own connections.
 */
import { connect, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../helpers/server.js';

const SLOW = 40;

describe('issue #15 §4: header, body and idle timeouts', () => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer({ env: { TOLLGATE_HEADERS_TIMEOUT: '1', TOLLGATE_REQUEST_TIMEOUT: '2', TOLLGATE_IDLE_TIMEOUT: '2' } });
  });
  afterAll(async () => s?.close());

  it(`${SLOW} connections sending a byte every 300 ms are closed with 408 while /healthz keeps answering`, async () => {
    const { port } = new URL(s.url);
    const sockets: Array<{ socket: Socket; closedAt: number | null; received: string }> = [];
    const started = Date.now();
    const timers: NodeJS.Timeout[] = [];
    for (let i = 0; i < SLOW; i++) {
      const socket = connect(Number(port), '127.0.0.1');
      const entry = { socket, closedAt: null as number | null, received: '' };
      socket.on('data', (d: Buffer) => (entry.received += d.toString('latin1')));
      socket.on('close', () => (entry.closedAt = Date.now()));
      socket.on('error', () => {});
      sockets.push(entry);
      // Half dribble their headers, half a body they announced.
      const head = i % 2 === 0 ? 'GET /healthz HTTP/1.1\r\nHost: x\r\n' : 'POST /oauth/token HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 500\r\n\r\n';
      socket.write(head);
      timers.push(setInterval(() => socket.writable && socket.write(i % 2 === 0 ? 'X' : 'a'), 300));
    }
    try {
      // The server answers others during the attack.
      await new Promise((r) => setTimeout(r, 500));
      const health = await fetch(`${s.url}/healthz`);
      expect(health.status).toBe(200);
      // Every slow connection is closed by the server within the timeouts (+ the 1 s check interval).
      const deadline = Date.now() + 8_000;
      while (sockets.some((e) => e.closedAt === null) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
      expect(sockets.filter((e) => e.closedAt === null)).toHaveLength(0);
      const slowest = Math.max(...sockets.map((e) => (e.closedAt ?? Date.now()) - started));
      expect(slowest).toBeLessThan(8_000);
      expect(sockets.filter((e) => e.received.startsWith('HTTP/1.1 408')).length).toBeGreaterThan(0);
      expect((await fetch(`${s.url}/healthz`)).status).toBe(200);
    } finally {
      for (const t of timers) clearInterval(t);
      for (const e of sockets) e.socket.destroy();
    }
  }, 20_000);
});
