/**
 * The Documents API: a small service protected by `tollgate/resource`, in the spirit of AnyFetch's
 * documents API. `GET /documents` needs `documents:read`, `POST /documents` needs
 * `documents:write`; `GET /healthz` is public. Documents live in memory.
 *
 * In your own project, import from the package instead: `from 'tollgate/resource'`.
 */
import { randomUUID } from 'node:crypto';
import Fastify, { type FastifyInstance } from 'fastify';
import { fastifyBearer, type Verifier } from '../../src/resource/index.js';

export interface Document {
  readonly id: string;
  readonly title: string;
  readonly content: string;
  /** `sub` of the token that created it: a user id, or the application's client_id. */
  readonly creator: string;
  readonly created_at: string;
}

export interface DocumentsApiOptions {
  readonly verifier: Verifier;
  /** Fastify's logger option (default: off). */
  readonly logger?: boolean;
}

export async function buildDocumentsApi(opts: DocumentsApiOptions): Promise<FastifyInstance> {
  const app = Fastify({ logger: opts.logger ?? false });
  const documents: Document[] = [
    { id: randomUUID(), title: 'Welcome', content: 'Your first document.', creator: 'system', created_at: new Date().toISOString() },
  ];

  await app.register(fastifyBearer, { verifier: opts.verifier });

  app.get('/healthz', { config: { oauth: false } }, async () => ({ status: 'ok' }));

  app.get('/documents', { config: { oauth: { scopes: ['documents:read'] } } }, async (_request, reply) => {
    return reply.header('Cache-Control', 'no-store').send({ count: documents.length, data: documents });
  });

  app.post<{ Body: { title?: unknown; content?: unknown } }>(
    '/documents',
    { config: { oauth: { scopes: ['documents:write'] } } },
    async (request, reply) => {
      const body = request.body ?? {};
      if (typeof body.title !== 'string' || body.title.trim() === '' || (body.content !== undefined && typeof body.content !== 'string')) {
        return reply.code(400).send({ error: 'invalid_request', error_description: '"title" (a non-empty string) is required; "content" must be a string' });
      }
      const doc: Document = {
        id: randomUUID(),
        title: body.title.trim(),
        content: typeof body.content === 'string' ? body.content : '',
        creator: request.accessToken?.subject ?? 'unknown',
        created_at: new Date().toISOString(),
      };
      documents.push(doc);
      return reply.code(201).header('Cache-Control', 'no-store').send(doc);
    },
  );

  return app;
}
