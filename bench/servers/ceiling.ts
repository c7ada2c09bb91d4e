/**
 * The ceiling: a bare Fastify route returning a small JSON object. Same framework and Node version
 * as Tollgate, no logging, no plugins; whatever Tollgate does per request is measured against it.
 */
import Fastify from 'fastify';

const port = Number(process.env['PORT'] ?? 0);
const app = Fastify({ logger: false });
app.get('/json', async () => ({ hello: 'world', n: 1 }));
await app.listen({ host: '127.0.0.1', port });
process.on('SIGTERM', () => void app.close().then(() => process.exit(0)));
