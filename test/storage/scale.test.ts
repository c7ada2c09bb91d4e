/**
 * Issue #15 §12: lists that stall the whole server. With a seeded user base of 100,000 (and an
 * organization holding all of them, and 250 organizations), every page and admin API list answers
 * one bounded page from an index: the users page shows 50 with a "Next" link, the search finds
 * one person, the organizations page names 20 members "and N more", and no form offers a
 * `<select>` of every user or organization. Timings are not asserted here (see the closing note
 * of issue 15 and bench/); sizes and shapes are.
 */
import pg from 'pg';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { Browser, basic, describeEachDb, hiddenField, postForm, type TestServer } from '../helpers/server.js';

const USERS = 100_000;
const ORGS = 250;

describeEachDb('issue #15 §12: a seeded base of 100,000 users', (start) => {
  let s: TestServer;
  let admin: Browser;
  let bigOrgId = '';
  let token = '';

  beforeAll(async () => {
    s = await start();
    const t0 = Date.now();
    const now = Date.now();
    const orgId = (i: number) => `org-${String(i).padStart(4, '0')}`;
    if (s.pg) {
      // PostgreSQL: one statement per table (a row-by-row seed takes a minute there).
      const client = new pg.Client({ connectionString: s.pg.url });
      await client.connect();
      try {
        const q = (table: string) => `"${s.pg?.schema ?? ''}".${table}`;
        await client.query(`insert into ${q('organizations')} (id, name, created_at) select 'org-' || lpad(i::text, 4, '0'), 'Org ' || lpad(i::text, 4, '0'), $1::bigint from generate_series(0, ${ORGS - 1}) i`, [now]);
        await client.query(
          `insert into ${q('users')} (id, email, password_hash, is_admin, disabled, failed_logins, locked_until, created_at, external, profile)
           select 'seed-' || lpad(i::text, 6, '0'), 'person-' || lpad(i::text, 6, '0') || '@example.com', 'x', 0, case when i % 10 = 0 then 1 else 0 end, 0, null, $1::bigint + i, 0, null
           from generate_series(0, ${USERS - 1}) i`,
          [now],
        );
        await client.query(`insert into ${q('memberships')} (user_id, org_id, role) select 'seed-' || lpad(i::text, 6, '0'), 'org-0000', 'member' from generate_series(0, ${USERS - 1}) i`);
        await client.query(`analyze ${q('users')}; analyze ${q('memberships')}`);
      } finally {
        await client.end();
      }
    } else {
      await s.ctx.storage.transaction(async (tx) => {
        for (let i = 0; i < ORGS; i++) await tx.organizations.create({ id: orgId(i), name: `Org ${String(i).padStart(4, '0')}`, createdAt: now });
        for (let i = 0; i < USERS; i++) {
          const id = `seed-${String(i).padStart(6, '0')}`;
          await tx.users.create({ id, email: `person-${String(i).padStart(6, '0')}@example.com`, passwordHash: 'x', isAdmin: false, disabled: i % 10 === 0, failedLogins: 0, lockedUntil: null, createdAt: now + i });
          await tx.users.addMembership({ userId: id, orgId: orgId(0), role: 'member' });
        }
      });
    }
    bigOrgId = 'org-0000';
    console.log(`seeded ${USERS} users in ${Date.now() - t0} ms`);
    admin = new Browser(s.url);
    expect((await admin.login(s.ctx.config.adminEmail, s.adminPassword)).status).toBe(303);
    const app = await s.createApp({ name: 'Scale admin', grantTypes: ['client_credentials'], scopes: ['admin'], actsAsUserId: (await s.ctx.storage.users.byEmail(s.ctx.config.adminEmail))?.id ?? null });
    const tok = await postForm(`${s.url}/oauth/token`, { grant_type: 'client_credentials', scope: 'admin' }, { authorization: basic(app.client.clientId, app.clientSecret ?? '') });
    expect(tok.status).toBe(200);
    token = String(tok.json['access_token']);
  }, 240_000);
  afterAll(async () => s?.close(), 120_000);

  const rowsOf = (html: string): number => (html.match(/<tr>\n<td>/g) ?? []).length;

  it('the users page shows one page of 50 with a next link that leads to the next 50', async () => {
    const res = await admin.fetch('/admin/users');
    expect(res.status).toBe(200);
    const html = await res.text();
    expect(rowsOf(html)).toBe(50);
    expect(html.length).toBeLessThan(200_000);
    const next = /<a href="([^"]+)" rel="next">Next 50 →<\/a>/.exec(html)?.[1]?.replace(/&amp;/g, '&') ?? '';
    expect(next).toMatch(/^\/admin\/users\?after=/);
    const second = await (await admin.fetch(next)).text();
    expect(rowsOf(second)).toBe(50);
    // The admin was created first; the second page starts further on and repeats nobody.
    const emails = (h: string) => [...h.matchAll(/person-(\d{6})@example\.com/g)].map((m) => m[1]);
    expect(new Set([...emails(html), ...emails(second)]).size).toBe(emails(html).length + emails(second).length);
    expect(emails(second)[0]).toBe('000049');
    expect(second).toContain('First page');
  });

  it('finds one person by the start of their email, or by id', async () => {
    const found = await (await admin.fetch('/admin/users?q=person-099999')).text();
    expect(rowsOf(found)).toBe(1);
    expect(found).toContain('person-099999@example.com');
    expect(found).not.toContain('rel="next"');
    const prefix = await (await admin.fetch('/admin/users?q=PERSON-09999')).text();
    expect(rowsOf(prefix)).toBe(10);
    const byId = await (await admin.fetch('/admin/users?q=seed-000007')).text();
    expect(byId).toContain('person-000007@example.com');
    expect(rowsOf(await (await admin.fetch('/admin/users?q=nobody-here')).text())).toBe(0);
  });

  it('the organizations page names 20 members "and N more", pages organizations, and offers text fields, not selects', async () => {
    const res = await admin.fetch('/admin/orgs');
    expect(res.status).toBe(200);
    const html = await res.text();
    expect(html).toContain(`and ${USERS - 20} more`);
    expect(html.length).toBeLessThan(200_000);
    expect(html).toContain('rel="next"');
    // More organizations than a list can hold: the member form takes a name or id as text.
    expect(html).toMatch(/<input id="m-org" name="org_id" type="text"/);
    expect(html).not.toContain('<option value="seed-');
    expect(html).not.toMatch(/<select[^>]*name="user_id"/);
    const found = await (await admin.fetch('/admin/orgs?q=org 0249')).text();
    expect(found).toContain('Org 0249');
    expect(found).not.toContain('Org 0248');
    // Adding a member by email and organization name works with text fields.
    const csrf = hiddenField(html, 'csrf');
    const add = await admin.postForm('/admin/orgs/members', [['csrf', csrf], ['user_email', 'person-000001@example.com'], ['org_id', 'Org 0249'], ['role', 'admin']]);
    expect(add.status).toBe(303);
    expect(await s.ctx.storage.users.memberships('seed-000001')).toContainEqual({ userId: 'seed-000001', orgId: 'org-0249', role: 'admin' });
    const unknown = await admin.postForm('/admin/orgs/members', [['csrf', csrf], ['user_email', 'person-000001@example.com'], ['org_id', 'No Such Org'], ['role', 'member']]);
    expect(unknown.status).toBe(400);
    expect(await unknown.text()).toContain('No organization named No Such Org');
  });

  it('the user and application forms take the organization as text; the dashboard counts', async () => {
    const users = await (await admin.fetch('/admin/users')).text();
    expect(users).toMatch(/<input id="u-org" name="org" type="text"/);
    const apps = await (await admin.fetch(`/admin/apps?org=${encodeURIComponent('Org 0001')}&sort=name&dir=asc`)).text();
    expect(apps).toMatch(/<input id="f-org" name="org" type="text"[^>]*value="Org 0001"/);
    expect(apps).toContain('0 applications');
    const dash = await (await admin.fetch('/admin')).text();
    expect(dash).toContain(`${USERS + 1}`);
    expect(dash).toContain(`${ORGS}`);
    const newApp = await (await admin.fetch('/developers/new')).text();
    expect(newApp).toMatch(/<input id="org_id" name="org_id" type="text"/);
    expect(newApp.length).toBeLessThan(100_000);
  });

  it('the developers page shows an owner\'s applications 50 at a time', async () => {
    const ownerId = (await s.ctx.storage.users.byEmail(s.ctx.config.adminEmail))?.id ?? null;
    for (let i = 0; i < 55; i++) await s.createApp({ name: `Owned ${String(i).padStart(2, '0')}`, grantTypes: ['client_credentials'], ownerId });
    const first = await (await admin.fetch('/developers')).text();
    expect((first.match(/>Owned \d\d</g) ?? []).length).toBe(50);
    expect(first).toContain('Page 1 of 2');
    expect(first).toContain('href="/developers?page=2" rel="next"');
    const second = await (await admin.fetch('/developers?page=2')).text();
    const onSecond = second.match(/>Owned \d\d</g) ?? [];
    expect(onSecond).toHaveLength(5);
    expect(new Set([...(first.match(/>Owned \d\d</g) ?? []), ...onSecond]).size).toBe(55);
    expect(second).toContain('href="/developers" rel="prev"');
  });

  it('reports how long the lists take (logged for the closing note, never asserted)', async () => {
    const timed = async (path: string): Promise<number> => {
      const t = performance.now();
      expect((await admin.fetch(path)).status, path).toBe(200);
      return Math.round(performance.now() - t);
    };
    const pages = ['/admin/users', '/admin/users?q=person-0999', '/admin/orgs', '/admin', '/admin/apps?sort=name'];
    const ms: Record<string, number> = {};
    for (const p of pages) ms[p] = await timed(p);
    // /healthz while ten users pages are in flight.
    const load = Promise.all(Array.from({ length: 10 }, () => timed('/admin/users')));
    const t = performance.now();
    expect((await fetch(`${s.url}/healthz`)).status).toBe(200);
    ms['/healthz during 10 × /admin/users'] = Math.round(performance.now() - t);
    await load;
    console.log(`timings at ${USERS} users (ms): ${JSON.stringify(ms)}`);
  });

  it('the admin API pages users and an organization list by cursor', async () => {
    const get = async (path: string) => {
      const res = await fetch(`${s.url}${path}`, { headers: { authorization: `Bearer ${token}` } });
      return { status: res.status, json: (await res.json()) as { items: Array<Record<string, unknown>>; next: string | null } };
    };
    const first = await get('/admin/api/users?limit=200');
    expect(first.status).toBe(200);
    expect(first.json.items).toHaveLength(200);
    expect(first.json.next).toEqual(expect.any(String));
    const second = await get(`/admin/api/users?limit=200&cursor=${encodeURIComponent(first.json.next ?? '')}`);
    expect(second.json.items).toHaveLength(200);
    expect(second.json.items[0]?.['email']).toBe('person-000199@example.com');
    const one = await get('/admin/api/users?q=person-050000');
    expect(one.json.items.map((u) => u['id'])).toEqual(['seed-050000']);
    expect(one.json.items[0]?.['organizations']).toEqual([{ id: 'org-0000', name: 'Org 0000', role: 'member' }]);
    const orgs = await get('/admin/api/orgs?limit=200');
    expect(orgs.json.items).toHaveLength(200);
    expect(orgs.json.next).toEqual(expect.any(String));
  });
});
