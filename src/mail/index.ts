/**
 * Email (A9). When an application is created for someone, its owner — or the configured
 * recipient — gets a message. With `TOLLGATE_SMTP_URL` it is sent through SMTP (nodemailer);
 * without it, the message is written as an RFC 5322 `.eml` file under `<data dir>/outbox/`
 * (nodemailer's stream transport builds it, so the file is exactly what SMTP would have sent).
 *
 * Templates: `app-created.txt` (first line `Subject: …`, then a blank line, then the body) and
 * optionally `app-created.html`, looked up first in `TOLLGATE_MAIL_TEMPLATES` (a folder), then
 * the built-in ones. Placeholders `{{name}}` are replaced by values; in HTML they are escaped.
 * Templates never receive a secret: the client secret is shown once in the portal, never mailed.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import escapeHtml from 'escape-html';
import nodemailer from 'nodemailer';

export interface MailOptions {
  /** `smtp://user:pass@host:587` / `smtps://…`; null writes `.eml` files to `outboxDir`. */
  readonly smtpUrl: string | null;
  readonly outboxDir: string;
  readonly from: string;
  /** Folder with template overrides, or null. */
  readonly templatesDir: string | null;
  /** Send every notification to this address instead of the owner; null = the owner. */
  readonly recipient: string | null;
}

/**
 * From the environment: `TOLLGATE_SMTP_URL`, `TOLLGATE_MAIL_FROM`, `TOLLGATE_MAIL_TEMPLATES`,
 * `TOLLGATE_MAIL_TO`; the outbox is `<dataDir>/outbox`.
 */
export function mailOptionsFromEnv(env: Readonly<Record<string, string | undefined>>, dataDir: string, issuer: string): MailOptions {
  const host = (() => {
    try {
      return new URL(issuer).hostname;
    } catch {
      return 'localhost';
    }
  })();
  const nonEmpty = (v: string | undefined): string | null => (v !== undefined && v.trim() !== '' ? v.trim() : null);
  return {
    smtpUrl: nonEmpty(env['TOLLGATE_SMTP_URL']),
    outboxDir: join(dataDir, 'outbox'),
    from: nonEmpty(env['TOLLGATE_MAIL_FROM']) ?? `Tollgate <no-reply@${host}>`,
    templatesDir: nonEmpty(env['TOLLGATE_MAIL_TEMPLATES']),
    recipient: nonEmpty(env['TOLLGATE_MAIL_TO']),
  };
}

export interface MailMessage {
  readonly to: string;
  readonly subject: string;
  readonly text: string;
  readonly html: string | null;
}

export interface SentMail {
  /** The `.eml` file written (outbox mode), or null when sent by SMTP. */
  readonly file: string | null;
  readonly messageId: string;
}

export interface Mailer {
  readonly options: MailOptions;
  send(message: MailMessage): Promise<SentMail>;
}

export function createMailer(options: MailOptions): Mailer {
  if (options.smtpUrl) {
    const transport = nodemailer.createTransport(options.smtpUrl);
    return {
      options,
      async send(m) {
        const info = await transport.sendMail({ from: options.from, to: m.to, subject: m.subject, text: m.text, ...(m.html ? { html: m.html } : {}) });
        return { file: null, messageId: info.messageId };
      },
    };
  }
  const transport = nodemailer.createTransport({ streamTransport: true, buffer: true, newline: 'windows' });
  return {
    options,
    async send(m) {
      const info = await transport.sendMail({ from: options.from, to: m.to, subject: m.subject, text: m.text, ...(m.html ? { html: m.html } : {}) });
      const raw = info.message;
      const data = Buffer.isBuffer(raw) ? raw : Buffer.from(String(raw));
      mkdirSync(options.outboxDir, { recursive: true });
      const file = join(options.outboxDir, `${new Date().toISOString().replace(/[:.]/g, '-')}-${randomBytes(4).toString('hex')}.eml`);
      writeFileSync(file, data, { mode: 0o600 });
      return { file, messageId: info.messageId };
    },
  };
}

const BUILTIN: Readonly<Record<string, string>> = {
  'app-created.txt': `Subject: Your application "{{app_name}}" was created

Hello,

The application "{{app_name}}" was created for you on {{product}}.

  Client ID:  {{client_id}}
  Type:       {{client_type}}
  Created by: {{created_by}}

Its client secret was shown once on the screen when it was created; it is never sent by email.
If you did not expect this, ask an administrator, or review your applications here:

  {{portal_url}}

— {{product}}
`,
  'app-created.html': `<!doctype html><html><body>
<p>Hello,</p>
<p>The application <strong>{{app_name}}</strong> was created for you on {{product}}.</p>
<table><tr><td>Client ID</td><td><code>{{client_id}}</code></td></tr><tr><td>Type</td><td>{{client_type}}</td></tr><tr><td>Created by</td><td>{{created_by}}</td></tr></table>
<p>Its client secret was shown once on the screen when it was created; it is never sent by email.</p>
<p><a href="{{portal_url}}">Review your applications</a></p>
<p>— {{product}}</p>
</body></html>
`,
};

function template(options: MailOptions, name: string): string | null {
  if (options.templatesDir) {
    try {
      return readFileSync(resolve(options.templatesDir, name), 'utf8');
    } catch {
      // fall back to the built-in template
    }
  }
  return BUILTIN[name] ?? null;
}

function fill(tpl: string, vars: Readonly<Record<string, string>>, escape: boolean): string {
  return tpl.replace(/\{\{\s*([a-z_]+)\s*\}\}/g, (_m, key: string) => {
    const v = vars[key] ?? '';
    return escape ? escapeHtml(v) : v;
  });
}

/** Renders a message from `<name>.txt` (and `<name>.html` when present). */
export function renderMail(options: MailOptions, name: string, to: string, vars: Readonly<Record<string, string>>): MailMessage {
  const txt = template(options, `${name}.txt`) ?? '';
  const body = fill(txt.replace(/\r\n/g, '\n'), vars, false);
  const m = /^Subject:[ \t]*(.*)\n\n?/.exec(body);
  const subject = (m?.[1] ?? name).replace(/[\r\n]/g, ' ').trim();
  const text = m ? body.slice(m[0].length) : body;
  const htmlTpl = template(options, `${name}.html`);
  return { to, subject, text, html: htmlTpl ? fill(htmlTpl, vars, true) : null };
}

export interface AppCreatedMail {
  readonly appName: string;
  readonly clientId: string;
  readonly clientType: string;
  readonly ownerEmail: string | null;
  readonly createdBy: string;
  readonly portalUrl: string;
  readonly product: string;
}

/** A9: tells the owner (or the configured recipient) that an application was created. Returns null when there is nobody to tell. */
export async function notifyAppCreated(mailer: Mailer, m: AppCreatedMail): Promise<SentMail | null> {
  const to = mailer.options.recipient ?? m.ownerEmail;
  if (!to) return null;
  const message = renderMail(mailer.options, 'app-created', to, {
    app_name: m.appName,
    client_id: m.clientId,
    client_type: m.clientType,
    owner_email: m.ownerEmail ?? '',
    created_by: m.createdBy,
    portal_url: m.portalUrl,
    product: m.product,
  });
  return mailer.send(message);
}
