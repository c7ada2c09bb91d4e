/**
 * The example protected API (`examples/documents-api`), end to end: a live Tollgate with the
 * Documents API registered as a resource server, the example started with its one command
 * (`node --import tsx examples/documents-api/server.ts`), an application allowed only
 * `documents:read` reads and gets 403 on a write; one allowed `documents:write` writes.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CreatedApp } from '../../src/services/apps.js';
import { createResourceServer, setIntrospectors } from '../../src/services/directory.js';
import { freePort, startTestServer, type TestServer } from '../helpers/server.js';
import { ccToken } from '../helpers/resource.js';

const AUDIENCE = 'http://localhost:4000';

async function startExample(env: Record<string, string>): Promise<{ child: ChildProcess; url: string; output: () => string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'examples/documents-api/server.ts'], {
    cwd: process.cwd(),
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`example did not start:\n${out}`)), 20_000);
    const check = (): void => {
      const m = /Documents API listening on (http:\/\/\S+)/.exec(out);
      if (m?.[1]) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    };
    child.stdout?.on('data', check);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`example exited with ${code}:\n${out}`));
    });
  });
  return { child, url, output: () => out };
}

describe('R3 examples/documents-api end to end', () => {
  let s: TestServer;
  let example: Awaited<ReturnType<typeof startExample>> | null = null;
  let reader: CreatedApp;
  let writer: CreatedApp;

  beforeAll(async () => {
    s = await startTestServer();
    await createResourceServer(s.ctx, {
      identifier: AUDIENCE,
      name: 'Documents API',
      scopes: [
        { name: 'documents:read', description: 'Read your documents' },
        { name: 'documents:write', description: 'Create documents' },
      ],
    });
    const rs = await s.createApp({ name: 'Documents API', grantTypes: ['client_credentials'] });
    // Issue #15 §6: the API's own application introspects for it.
    await setIntrospectors(s.ctx, AUDIENCE, [rs.client.clientId]);
    reader = await s.createApp({ name: 'Reader', grantTypes: ['client_credentials'], scopes: ['documents:read'] });
    writer = await s.createApp({ name: 'Writer', grantTypes: ['client_credentials'], scopes: ['documents:read', 'documents:write'], tokenFormat: 'jwt' });
    example = await startExample({
      TOLLGATE_ISSUER: s.issuer,
      DOCUMENTS_API_AUDIENCE: AUDIENCE,
      DOCUMENTS_API_CLIENT_ID: rs.client.clientId,
      DOCUMENTS_API_CLIENT_SECRET: rs.clientSecret ?? '',
      PORT: String(await freePort()),
    });
  });
  afterAll(async () => {
    if (example?.child.exitCode === null) {
      const exited = new Promise((r) => example?.child.once('exit', r));
      example.child.kill('SIGTERM');
      await exited;
    }
    await s?.close();
  });

  it('reads with documents:read (opaque token, introspected), 403 on a write', async () => {
    const url = example?.url ?? '';
    const at = await ccToken(s, reader, { scope: 'documents:read', resource: AUDIENCE });
    const list = await fetch(`${url}/documents`, { headers: { authorization: `Bearer ${at}` } });
    expect(list.status).toBe(200);
    expect(await list.json()).toEqual({
      count: 1,
      data: [{ id: expect.any(String), title: 'Welcome', content: 'Your first document.', creator: 'system', created_at: expect.any(String) }],
    });
    const write = await fetch(`${url}/documents`, {
      method: 'POST',
      headers: { authorization: `Bearer ${at}`, 'content-type': 'application/json' },
      body: JSON.stringify({ title: 'Nope' }),
    });
    expect(write.status).toBe(403);
    expect(write.headers.get('www-authenticate')).toBe(
      `Bearer realm="documents", error="insufficient_scope", error_description="This endpoint requires the scope: documents:write", scope="documents:write", resource_metadata="${AUDIENCE}/.well-known/oauth-protected-resource"`,
    );
    expect(await write.json()).toEqual({ error: 'insufficient_scope', error_description: 'This endpoint requires the scope: documents:write' });
  });

  it('writes with documents:write (JWT, verified locally); refuses no token and tokens for other audiences', async () => {
    const url = example?.url ?? '';
    const jwt = await ccToken(s, writer, { scope: 'documents:read documents:write', resource: AUDIENCE });
    const created = await fetch(`${url}/documents`, {
      method: 'POST',
      headers: { authorization: `Bearer ${jwt}`, 'content-type': 'application/json' },
      body: JSON.stringify({ title: 'Quarterly report', content: 'Numbers.' }),
    });
    expect(created.status).toBe(201);
    expect(await created.json()).toEqual({ id: expect.any(String), title: 'Quarterly report', content: 'Numbers.', creator: writer.client.clientId, created_at: expect.any(String) });
    const list = (await (await fetch(`${url}/documents`, { headers: { authorization: `Bearer ${jwt}` } })).json()) as { count: number };
    expect(list.count).toBe(2);

    const none = await fetch(`${url}/documents`);
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toBe(`Bearer realm="documents", scope="documents:read", resource_metadata="${AUDIENCE}/.well-known/oauth-protected-resource"`);
    // RFC 9728: the metadata the challenge names, served by the plugin, readable from any origin.
    const meta = await fetch(`${url}/.well-known/oauth-protected-resource`);
    expect(meta.status).toBe(200);
    expect(meta.headers.get('access-control-allow-origin')).toBe('*');
    expect(await meta.json()).toEqual({
      resource: AUDIENCE,
      authorization_servers: [s.issuer],
      bearer_methods_supported: ['header'],
      resource_name: 'Documents API',
      scopes_supported: ['documents:read', 'documents:write'],
    });
    expect(await none.json()).toEqual({ error: 'invalid_request', error_description: 'An access token is required' });

    const own = await s.createApp({ name: 'Tollgate API client', grantTypes: ['client_credentials'], scopes: ['profile'] });
    const foreign = await fetch(`${url}/documents`, { headers: { authorization: `Bearer ${await ccToken(s, own, { scope: 'profile' })}` } });
    expect(foreign.status).toBe(401);
    // An opaque token for Tollgate's own API is not described to this API's introspector (issue #15 §6).
    expect(await foreign.json()).toEqual({ error: 'invalid_token', error_description: 'The access token is invalid, expired or revoked' });

    expect((await fetch(`${url}/healthz`)).status).toBe(200);
    expect(example?.output()).toContain(`Documents API listening on ${url} (issuer ${s.issuer}, audience ${AUDIENCE})`);
  });
});
