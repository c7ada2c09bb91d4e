/**
 * Issue #6 "PostgreSQL stopped during load": requests fail fast with 503 and an RFC-shaped body
 * (bounded by TOLLGATE_DB_TIMEOUT, even when packets are silently dropped), /readyz fails, and
 * service resumes without a restart when the database comes back. The outage is made by a TCP
 * proxy between Tollgate and PostgreSQL that the test cuts, so the shared server is never stopped.
 */
import { createServer, connect, type Server, type Socket } from 'node:net';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describePg } from '../helpers/pg.js';
import { basic, freePort, postForm, startTestServer, type TestServer } from '../helpers/server.js';

type Mode = 'up' | 'refuse' | 'blackhole';

class PgProxy {
  private server: Server | null = null;
  private readonly sockets = new Set<Socket>();
  mode: Mode = 'up';
  constructor(
    readonly port: number,
    private readonly target: { host: string; port: number },
  ) {}

  async listen(): Promise<void> {
    this.server = createServer((client) => {
      this.sockets.add(client);
      client.on('close', () => this.sockets.delete(client));
      client.on('error', () => {});
      if (this.mode === 'blackhole') return; // accepted, never answered
      const upstream = connect(this.target.port, this.target.host);
      this.sockets.add(upstream);
      upstream.on('close', () => this.sockets.delete(upstream));
      upstream.on('error', () => client.destroy());
      client.on('close', () => upstream.destroy());
      client.pipe(upstream);
      upstream.pipe(client);
    });
    await new Promise<void>((resolve) => this.server?.listen(this.port, '127.0.0.1', resolve));
  }

  /** Connections refused and existing ones cut (the database went away). */
  async refuse(): Promise<void> {
    this.mode = 'refuse';
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
    this.server = null;
  }

  /** Existing connections stall and new ones are accepted but never answered (packets dropped). */
  async blackhole(): Promise<void> {
    this.mode = 'blackhole';
    for (const s of this.sockets) {
      s.unpipe();
      s.pause();
    }
    if (!this.server) await this.listen();
  }

  async restore(): Promise<void> {
    this.mode = 'up';
    for (const s of this.sockets) s.destroy();
    if (!this.server) await this.listen();
  }

  async close(): Promise<void> {
    await this.refuse();
  }
}

describePg('issue #6: PostgreSQL outage', (url) => {
  let proxy: PgProxy;
  let s: TestServer;
  let auth: Record<string, string>;
  let token: string;

  beforeAll(async () => {
    const target = new URL(url);
    proxy = new PgProxy(await freePort(), { host: target.hostname, port: Number(target.port || 5432) });
    await proxy.listen();
    const proxied = new URL(url);
    proxied.host = `127.0.0.1:${proxy.port}`;
    s = await startTestServer({ db: 'postgres', pgUrl: proxied.toString(), env: { TOLLGATE_DB_TIMEOUT: '1000' } });
    const app = await s.createApp({ name: 'outage', grantTypes: ['client_credentials'] });
    auth = { authorization: basic(app.client.clientId, app.clientSecret ?? '') };
    const r = await postForm(`${s.url}/oauth/token`, { grant_type: 'client_credentials' }, auth);
    expect(r.status).toBe(200);
    token = String(r.json['access_token']);
  });
  afterAll(async () => {
    await proxy?.restore();
    await s?.close();
    await proxy?.close();
  });

  async function timed<T>(fn: () => Promise<T>): Promise<{ value: T; ms: number }> {
    const t0 = performance.now();
    const value = await fn();
    return { value, ms: performance.now() - t0 };
  }

  async function expectUnavailable(): Promise<void> {
    const issue = await timed(() => postForm(`${s.url}/oauth/token`, { grant_type: 'client_credentials' }, auth));
    expect(issue.value.status).toBe(503);
    expect(issue.value.json).toEqual({ error: 'temporarily_unavailable', error_description: 'The service is temporarily unavailable, try again later' });
    expect(issue.ms).toBeLessThan(4000);
    // Under load: 50 concurrent requests all fail fast with the same RFC-shaped 503.
    const burst = await timed(() =>
      Promise.all(Array.from({ length: 50 }, () => postForm(`${s.url}/oauth/token`, { grant_type: 'client_credentials' }, auth))),
    );
    expect(burst.value.map((r) => r.status)).toEqual(Array.from({ length: 50 }, () => 503));
    expect(burst.value.every((r) => r.json['error'] === 'temporarily_unavailable')).toBe(true);
    expect(burst.ms).toBeLessThan(6000);
    // Introspection never answers a false {"active": false} during an outage.
    const intro = await postForm(`${s.url}/oauth/introspect`, { token }, auth);
    expect(intro.status).toBe(503);
    const me = await fetch(`${s.url}/api/`, { headers: { authorization: `Bearer ${token}` } });
    expect(me.status).toBe(503);
    const ready = await fetch(`${s.url}/readyz`);
    expect(ready.status).toBe(503);
    expect((await fetch(`${s.url}/healthz`)).status).toBe(200);
  }

  async function expectRecovered(): Promise<number> {
    const t0 = performance.now();
    for (;;) {
      const r = await postForm(`${s.url}/oauth/token`, { grant_type: 'client_credentials' }, auth);
      if (r.status === 200) break;
      expect(r.status).toBe(503);
      if (performance.now() - t0 > 10_000) throw new Error('did not recover within 10 s');
      await new Promise((res) => setTimeout(res, 100));
    }
    expect((await fetch(`${s.url}/readyz`)).status).toBe(200);
    const intro = await postForm(`${s.url}/oauth/introspect`, { token }, auth);
    expect(intro.json['active']).toBe(true);
    return performance.now() - t0;
  }

  it('database refusing connections: fast 503s, /readyz 503, then recovery without a restart', async () => {
    await proxy.refuse();
    await expectUnavailable();
    await proxy.restore();
    const ms = await expectRecovered();
    console.log(`pg outage (refused): recovered ${Math.round(ms)} ms after the database came back`);
  });

  it('packets silently dropped: 503 within the configured timeout, then recovery', async () => {
    await proxy.blackhole();
    await expectUnavailable();
    await proxy.restore();
    const ms = await expectRecovered();
    console.log(`pg outage (blackhole): recovered ${Math.round(ms)} ms after the database came back`);
  });
});
