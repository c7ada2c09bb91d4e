/**
 * "Acme Notes": a small existing platform — Fastify, its own users table (SQLite), its own
 * sign-in form and session cookie — that adds OAuth by mounting Tollgate under `/oauth`. The
 * platform keeps its users and its login; Tollgate asks it who is signed in (`login.currentUser`),
 * sends people to its sign-in page (`login.loginUrl`), and asks who a user is (`accounts.byId`).
 *
 * Only `mountTollgate` below is about Tollgate; everything else is the platform as it was.
 * In your own project, import from the package instead: `from 'tollgate'`.
 */
import { randomBytes } from 'node:crypto';
import Database from 'better-sqlite3';
import Fastify, { type FastifyInstance, type FastifyRequest } from 'fastify';
import cookie from '@fastify/cookie';
import formbody from '@fastify/formbody';
import escapeHtml from 'escape-html';
import { hash, verify } from '@node-rs/argon2';
import { createTollgate, type Tollgate } from '../../src/index.js';

export interface HostPlatformOptions {
  /** Where the platform is served, e.g. http://localhost:3000 (Tollgate's issuer is `<origin>/oauth`). */
  readonly origin: string;
  /** Tollgate's data folder (its SQLite database). */
  readonly dataDir: string;
  /** Extra Tollgate settings (TOLLGATE_* names), e.g. a log level. */
  readonly tollgateSettings?: Readonly<Record<string, string>>;
}

export interface HostPlatform {
  readonly app: FastifyInstance;
  readonly tollgate: Tollgate;
  /** Adds a platform user (the platform's own sign-up, simplified). */
  addUser(user: { email: string; name: string; password: string; admin?: boolean }): Promise<string>;
  /** Disables a user on the platform, and tells Tollgate to stop trusting them. */
  disableUser(id: string): Promise<void>;
  close(): Promise<void>;
}

interface UserRow {
  id: number;
  email: string;
  name: string;
  password_hash: string;
  admin: number;
  disabled: number;
}

interface SessionRow {
  sid: string;
  user_id: number;
  signed_in_at: number;
}

const page = (title: string, body: string): string =>
  `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)} · Acme Notes</title></head><body><main>${body}</main></body></html>`;

/** The platform's own check for where to go after signing in: a path on this site, nothing else. */
function localPath(value: unknown): string {
  return typeof value === 'string' && /^\/(?![/\\])[\x21-\x7e]*$/.test(value) ? value : '/';
}

export async function buildHostPlatform(opts: HostPlatformOptions): Promise<HostPlatform> {
  // ------------------------------------------------------------------ the platform as it was
  const db = new Database(':memory:');
  db.exec(`create table users (id integer primary key, email text unique not null, name text not null,
             password_hash text not null, admin integer not null default 0, disabled integer not null default 0);
           create table sessions (sid text primary key, user_id integer not null, signed_in_at integer not null);`);
  const userById = db.prepare<[number], UserRow>('select * from users where id = ?');
  const userByEmail = db.prepare<[string], UserRow>('select * from users where email = ?');
  const sessionBySid = db.prepare<[string], SessionRow>('select * from sessions where sid = ?');

  const app = Fastify();
  await app.register(cookie);
  await app.register(formbody);

  const signedIn = (request: FastifyRequest): { user: UserRow; session: SessionRow } | null => {
    const sid = request.cookies['acme_session'];
    const session = sid ? sessionBySid.get(sid) : undefined;
    const user = session ? userById.get(session.user_id) : undefined;
    return session && user && !user.disabled ? { user, session } : null;
  };

  app.get('/', async (request, reply) => {
    const who = signedIn(request);
    return reply.type('text/html').send(
      page('Home', who ? `<h1>Hello ${escapeHtml(who.user.name)}</h1><form method="post" action="/logout"><button>Sign out</button></form>` : '<h1>Acme Notes</h1><a href="/login">Sign in</a>'),
    );
  });

  app.get<{ Querystring: { next?: string; error?: string } }>('/login', async (request, reply) => {
    const next = localPath(request.query.next);
    return reply.type('text/html').send(
      page(
        'Sign in',
        `<h1>Sign in to Acme Notes</h1>${request.query.error ? '<p role="alert">Wrong email or password.</p>' : ''}
<form method="post" action="/login"><input type="hidden" name="next" value="${escapeHtml(next)}">
<label>Email <input name="email" type="email" required></label>
<label>Password <input name="password" type="password" required></label>
<button type="submit">Sign in</button></form>`,
      ),
    );
  });

  app.post<{ Body: { email?: string; password?: string; next?: string } }>('/login', async (request, reply) => {
    const next = localPath(request.body.next);
    const user = userByEmail.get(String(request.body.email ?? '').toLowerCase());
    if (!user || user.disabled || !(await verify(user.password_hash, String(request.body.password ?? '')))) {
      return reply.redirect(`/login?error=1&next=${encodeURIComponent(next)}`, 303);
    }
    const sid = randomBytes(32).toString('base64url');
    db.prepare('insert into sessions values (?, ?, ?)').run(sid, user.id, Math.floor(Date.now() / 1000));
    reply.setCookie('acme_session', sid, { path: '/', httpOnly: true, sameSite: 'lax' });
    return reply.redirect(next, 303);
  });

  app.post('/logout', async (request, reply) => {
    const who = signedIn(request);
    if (who) {
      db.prepare('delete from sessions where sid = ?').run(who.session.sid);
      // Tollgate: this session is over.
      await tollgate.endSession(who.session.sid);
    }
    reply.clearCookie('acme_session', { path: '/' });
    return reply.redirect('/', 303);
  });

  // ------------------------------------------------------------------ adding Tollgate
  const tollgate = await mountTollgate(app, opts, {
    currentUser(request) {
      const who = signedIn(request);
      return who ? { subject: String(who.user.id), sessionId: who.session.sid, authTime: who.session.signed_in_at, amr: ['pwd'] } : null;
    },
    userById(subject) {
      const u = /^\d+$/.test(subject) ? userById.get(Number(subject)) : undefined;
      return u ? { subject, email: u.email, emailVerified: true, name: u.name, isAdmin: u.admin === 1, disabled: u.disabled === 1 } : null;
    },
  });

  return {
    app,
    tollgate,
    async addUser(u) {
      const r = db
        .prepare('insert into users (email, name, password_hash, admin) values (?, ?, ?, ?)')
        .run(u.email.toLowerCase(), u.name, await hash(u.password), u.admin ? 1 : 0);
      return String(r.lastInsertRowid);
    },
    async disableUser(id) {
      db.prepare('update users set disabled = 1 where id = ?').run(Number(id));
      db.prepare('delete from sessions where user_id = ?').run(Number(id));
      // Tollgate: revoke everything this person gave applications.
      await tollgate.revokeSubject(id);
    },
    async close() {
      await app.close();
      await tollgate.close();
      db.close();
    },
  };
}

/**
 * The whole integration: build Tollgate around the platform's login and users, mount it under
 * /oauth. Tollgate keeps only a row per platform user id for consents and tokens, never a password.
 */
async function mountTollgate(
  app: FastifyInstance,
  opts: HostPlatformOptions,
  platform: {
    currentUser(request: FastifyRequest): { subject: string; sessionId: string; authTime: number; amr: string[] } | null;
    userById(subject: string): { subject: string; email: string; emailVerified: boolean; name: string; isAdmin: boolean; disabled: boolean } | null;
  },
): Promise<Tollgate> {
  const tollgate = await createTollgate({
    config: { TOLLGATE_ISSUER: `${opts.origin}/oauth`, TOLLGATE_DATA_DIR: opts.dataDir, TOLLGATE_LOG_LEVEL: 'warn', ...opts.tollgateSettings },
    branding: { name: 'Acme Notes', logoUrl: null, color: '#0b6e4f' },
    login: {
      currentUser: (request) => platform.currentUser(request),
      loginUrl: (returnTo) => `/login?next=${encodeURIComponent(returnTo)}`,
      logoutUrl: '/',
    },
    accounts: { byId: (subject) => platform.userById(subject) },
  });
  await app.register(tollgate.plugin, { prefix: '/oauth' });
  return tollgate;
}
