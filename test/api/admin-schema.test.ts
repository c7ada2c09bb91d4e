/**
 * Issue #16 §3: the admin API's schemas are the one source of what it accepts, what it answers
 * and what /openapi.json says. Driven from the served document: every documented body field and
 * query parameter is the one the server accepts (an unknown one is refused, naming exactly the
 * documented ones), and real answers match the response schemas the routes declare.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TSchema } from 'typebox';
import { Value } from 'typebox/value';
import * as S from '../../src/http/schemas/admin.js';
import { BUILTIN_GRANTS } from '../../src/oauth/grant-types.js';
import { basic, postForm, startTestServer, type TestServer } from '../helpers/server.js';

type Json = Record<string, unknown>;
interface Operation {
  parameters?: Array<{ name: string; in: string }>;
  requestBody?: { content: Record<string, { schema: { properties?: Record<string, unknown>; 'x-checked-by'?: string } }> };
  responses: Record<string, { description: string; content?: Record<string, { schema: Json }> }>;
  'x-required-scopes'?: string[];
}

let s: TestServer;
let admin: string;
let doc: { paths: Record<string, Record<string, Operation>> };

async function call(method: string, path: string, body?: unknown, form?: Record<string, string>): Promise<{ status: number; json: Json }> {
  const headers: Record<string, string> = { authorization: `Bearer ${admin}` };
  let payload: string | undefined;
  if (form) {
    headers['content-type'] = 'application/x-www-form-urlencoded';
    payload = new URLSearchParams(form).toString();
  } else if (body !== undefined) {
    headers['content-type'] = 'application/json';
    payload = JSON.stringify(body);
  }
  const res = await fetch(`${s.url}${path}`, { method, headers, ...(payload !== undefined ? { body: payload } : {}) });
  const text = await res.text();
  return { status: res.status, json: text ? (JSON.parse(text) as Json) : {} };
}

/** The answer, checked against the schema its route declares. */
function conforms(schema: TSchema, res: { status: number; json: Json }, status: number): Json {
  expect(res.status, JSON.stringify(res.json)).toBe(status);
  const errors = [...Value.Errors(schema, res.json)].map((e) => `${e.instancePath} ${e.message}`);
  expect(errors).toEqual([]);
  return res.json;
}

/** The admin-scope operations of the served document (the delegated-login ones need TOLLGATE_LOGIN_URL). */
function adminOperations(): Array<{ method: string; path: string; op: Operation }> {
  const out: Array<{ method: string; path: string; op: Operation }> = [];
  for (const [path, ops] of Object.entries(doc.paths)) {
    if (!path.startsWith('/admin/api/')) continue;
    for (const [method, op] of Object.entries(ops)) if (op['x-required-scopes']?.[0] === 'admin') out.push({ method: method.toUpperCase(), path, op });
  }
  return out;
}

const concrete = (path: string): string => path.replace('{clientId}', 'tgc_nosuchapp').replace('{id}', 'nosuchuser');

beforeAll(async () => {
  s = await startTestServer();
  const user = await s.ctx.storage.users.byEmail('admin@localhost');
  const app = await s.createApp({ name: 'Schema admin', grantTypes: ['client_credentials'], scopes: ['admin'], actsAsUserId: user?.id ?? null });
  const tok = await postForm(`${s.url}/oauth/token`, { grant_type: 'client_credentials', scope: 'admin' }, { authorization: basic(app.client.clientId, app.clientSecret ?? '') });
  admin = String(tok.json['access_token']);
  doc = (await (await fetch(`${s.url}/openapi.json`)).json()) as typeof doc;
});
afterAll(async () => s?.close());

describe('the admin API accepts exactly what /openapi.json documents', () => {
  it('documents 25 admin operations, each with its success answer and the error answers', () => {
    const ops = adminOperations();
    expect(ops).toHaveLength(25);
    for (const { method, path, op } of ops) {
      const codes = Object.keys(op.responses);
      expect(codes.filter((c) => c.startsWith('2')), `${method} ${path}`).toHaveLength(1);
      expect(codes, `${method} ${path}`).toEqual(expect.arrayContaining(['400', '401', '403']));
    }
  });

  it('an unknown body field is refused, naming exactly the documented fields', async () => {
    let checked = 0;
    for (const { method, path, op } of adminOperations()) {
      const schema = op.requestBody?.content['application/json']?.schema;
      if (!schema || schema['x-checked-by'] === 'service') continue;
      // Both documented media types are accepted.
      expect(Object.keys(op.requestBody?.content ?? {}), `${method} ${path}`).toEqual(['application/json', 'application/x-www-form-urlencoded']);
      const documented = Object.keys(schema.properties ?? {});
      const expected = `Unknown field "zz_unknown"; expected ${documented.join(', ') || 'none'}`;
      const json = await call(method, concrete(path), { zz_unknown: 1 });
      expect(json, `${method} ${path}`).toEqual({ status: 400, json: { error: 'invalid_request', error_description: expected } });
      const form = await call(method, concrete(path), undefined, { zz_unknown: '1' });
      expect(form, `${method} ${path} (form)`).toEqual({ status: 400, json: { error: 'invalid_request', error_description: expected } });
      checked += 1;
    }
    expect(checked).toBe(13);
  });

  it('an unknown query parameter is refused, naming exactly the documented ones; a repeated one is refused', async () => {
    let checked = 0;
    for (const { method, path, op } of adminOperations()) {
      const documented = (op.parameters ?? []).filter((p) => p.in === 'query').map((p) => p.name);
      if (documented.length === 0 && method !== 'GET') continue;
      const res = await call(method, `${concrete(path)}?zz_unknown=1`);
      const expected = `Unknown query parameter "zz_unknown"; expected ${documented.join(', ') || 'none'}`;
      expect(res, `${method} ${path}`).toEqual({ status: 400, json: { error: 'invalid_request', error_description: expected } });
      const first = documented[0];
      if (first !== undefined) {
        const repeated = await call(method, `${concrete(path)}?${first}=1&${first}=2`);
        expect(repeated, `${method} ${path}`).toEqual({ status: 400, json: { error: 'invalid_request', error_description: `Parameter "${first}" must not be repeated` } });
      }
      checked += 1;
    }
    expect(checked).toBe(11);
  });

  it('query values are checked against their schema: range, pattern, enum', async () => {
    expect(await call('GET', '/admin/api/users?limit=0')).toEqual({ status: 400, json: { error: 'invalid_request', error_description: '"limit" must be a whole number from 1 to 200' } });
    expect(await call('GET', '/admin/api/audit?limit=1001')).toEqual({ status: 400, json: { error: 'invalid_request', error_description: '"limit" must be a whole number from 1 to 1000' } });
    expect(await call('GET', `/admin/api/orgs?cursor=${'a'.repeat(401)}`)).toEqual({ status: 400, json: { error: 'invalid_request', error_description: '"cursor" is not a cursor this API returned' } });
    expect(await call('GET', '/admin/api/apps?cursor=abc')).toEqual({ status: 400, json: { error: 'invalid_request', error_description: '"cursor" is not a cursor this API returned' } });
    expect(await call('GET', '/admin/api/apps?status=gone')).toEqual({ status: 400, json: { error: 'invalid_request', error_description: '"status" must be one of: active, inactive' } });
    expect(await call('POST', '/admin/api/import?dry_run=maybe', {})).toEqual({ status: 400, json: { error: 'invalid_request', error_description: '"dry_run" must be true or false' } });
    // An empty parameter is an absent one.
    expect((await call('GET', '/admin/api/users?limit=')).status).toBe(200);
  });

  it('a nested object and a list of objects are read member by member', async () => {
    const nested = await call('POST', '/admin/api/apps', { name: 'Nested', grant_types: ['client_credentials'], token_exchange: { audiences: 'not-a-list-but-one', zz: 1 } });
    expect(nested).toEqual({ status: 400, json: { error: 'invalid_request', error_description: 'Unknown field "token_exchange.zz"; expected audiences, impersonation, refresh_tokens' } });
    const item = await call('POST', '/admin/api/resource-servers', { identifier: 'https://rs.example', scopes: [{ name: 'a' }, 'b'] });
    expect(item).toEqual({ status: 400, json: { error: 'invalid_request', error_description: '"scopes[1]" must be a JSON object' } });
    const member = await call('POST', '/admin/api/resource-servers', { identifier: 'https://rs.example', scopes: [{ name: 'a', zz: 1 }] });
    expect(member).toEqual({ status: 400, json: { error: 'invalid_request', error_description: 'Unknown field "scopes[0].zz"; expected name, description' } });
    const blank = await call('POST', '/admin/api/resource-servers', { identifier: 'https://rs.example', scopes: [{ name: ' ' }] });
    expect(blank).toEqual({ status: 400, json: { error: 'invalid_request', error_description: '"name" is required' } });
    const grant = await call('POST', '/admin/api/apps', { name: 'Grant', grant_types: ['nope'] });
    expect(grant).toEqual({ status: 400, json: { error: 'invalid_request', error_description: `"grant_types[0]" must be one of: ${BUILTIN_GRANTS.join(', ')}` } });
  });

  it("names Object.prototype has are unknown fields too (constructor, toString, __proto__), in bodies, forms and queries", async () => {
    const expected = (field: string, kind = 'field', list = 'pattern, reason') => ({ status: 400, json: { error: 'invalid_request', error_description: `Unknown ${kind} "${field}"; expected ${list}` } });
    for (const field of ['constructor', 'toString', 'hasOwnProperty', 'valueOf']) {
      expect(await call('POST', '/admin/api/client-metadata/blocks', { pattern: 'x.example', [field]: 'x' }), field).toEqual(expected(field));
      expect(await call('POST', '/admin/api/client-metadata/blocks', undefined, { pattern: 'x.example', [field]: 'x' }), `${field} (form)`).toEqual(expected(field));
      expect(await call('GET', `/admin/api/scopes?${field}=1`), `${field} (query)`).toEqual(expected(field, 'query parameter', 'limit, cursor'));
    }
    const proto = await fetch(`${s.url}/admin/api/client-metadata/blocks`, { method: 'POST', headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/x-www-form-urlencoded' }, body: 'pattern=x.example&__proto__=a&__proto__=b' });
    expect([proto.status, await proto.json()]).toEqual([400, { error: 'invalid_request', error_description: 'Unknown field "__proto__"; expected pattern, reason' }]);
    expect(await call('GET', '/admin/api/scopes?__proto__=1')).toEqual(expected('__proto__', 'query parameter', 'limit, cursor'));
  });
});

describe('real answers match the response schemas the routes declare', () => {
  it('applications: create, show, update, list, rotate, deactivate', async () => {
    const created = conforms(S.CreatedApp, await call('POST', '/admin/api/apps', { name: 'Shaped', redirect_uris: ['https://shaped.example/cb'], scopes: ['profile'] }), 201);
    const id = String(created['client_id']);
    expect(typeof created['client_secret']).toBe('string');
    conforms(S.App, await call('GET', `/admin/api/apps/${id}`), 200);
    conforms(S.App, await call('PATCH', `/admin/api/apps/${id}`, { description: 'now described', token_exchange: { audiences: [], impersonation: false } }), 200);
    conforms(S.AppPage, await call('GET', '/admin/api/apps?limit=2'), 200);
    conforms(S.ClientSecret, await call('POST', `/admin/api/apps/${id}/rotate-secret`, { overlap_seconds: 60 }), 200);
    conforms(S.App, await call('POST', `/admin/api/apps/${id}/deactivate`), 200);
    // A form body: every value a string, one field per list item, "" clears.
    const form = await call('PATCH', `/admin/api/apps/${id}`, undefined, { description: '', refresh_enabled: 'false', access_ttl: '600', redirect_uris: 'https://shaped.example/other' });
    const patched = conforms(S.App, form, 200);
    expect([patched['description'], patched['refresh_enabled'], patched['access_ttl'], patched['redirect_uris']]).toEqual([null, false, 600, ['https://shaped.example/other']]);
    expect((await call('DELETE', `/admin/api/apps/${id}`)).status).toBe(204);
  });

  it('users, organizations, scopes, resource servers', async () => {
    conforms(S.Organization, await call('POST', '/admin/api/orgs', { name: 'Shape Org' }), 201);
    conforms(S.OrganizationPage, await call('GET', '/admin/api/orgs'), 200);
    const user = conforms(S.User, await call('POST', '/admin/api/users', { email: 'shape@example.com', password: 'a long enough password', org: 'Shape Org', role: 'member' }), 201);
    conforms(S.User, await call('PATCH', `/admin/api/users/${String(user['id'])}`, { given_name: 'Shape', disabled: true }), 200);
    conforms(S.UserPage, await call('GET', '/admin/api/users?q=shape'), 200);
    conforms(S.ResourceServer, await call('POST', '/admin/api/resource-servers', { identifier: 'https://shape-api.example', name: 'Shape API', scopes: [{ name: 'shape:read', description: 'Read shapes' }] }), 201);
    conforms(S.ResourceServerPage, await call('GET', '/admin/api/resource-servers'), 200);
    conforms(S.Scope, await call('POST', '/admin/api/scopes', { name: 'shape:write', descriptions: { fr: 'Écrire' } }), 201);
    const page = conforms(S.ScopePage, await call('GET', '/admin/api/scopes?limit=1'), 200);
    expect(typeof page['next']).toBe('string');
  });

  it('keys, audit, Client ID Metadata Document blocks, revocation, import', async () => {
    conforms(S.SigningKey, await call('POST', '/admin/api/keys/rotate', { alg: 'ES256' }), 201);
    conforms(S.SigningKeyPage, await call('GET', '/admin/api/keys'), 200);
    const audit = conforms(S.AuditPage, await call('GET', '/admin/api/audit?limit=3'), 200);
    expect(audit['items']).toHaveLength(3);
    conforms(S.MetadataBlockCreated, await call('POST', '/admin/api/client-metadata/blocks', { pattern: 'shapes.example', reason: 'test' }), 201);
    conforms(S.MetadataBlockPage, await call('GET', '/admin/api/client-metadata/blocks'), 200);
    expect((await call('DELETE', '/admin/api/client-metadata/blocks?pattern=shapes.example')).status).toBe(204);
    const app = await s.createApp({ name: 'Revoked', grantTypes: ['client_credentials'], scopes: ['profile'] });
    conforms(S.Revoked, await call('POST', '/admin/api/tokens/revoke', { client_id: app.client.clientId }), 200);
    conforms(S.ImportResult, await call('POST', '/admin/api/import?dry_run=true', { apps: [] }), 200);
  });
});
