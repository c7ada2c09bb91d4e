/**
 * Runs Acme Notes with Tollgate mounted under /oauth:
 *
 *   node --import tsx examples/host-platform/server.ts
 *
 * Then sign in at http://localhost:3000/login as ann@acme.example / ann-password-1 (created at
 * start), register an application in the developer portal at http://localhost:3000/oauth/developers,
 * and point any OAuth client at the issuer http://localhost:3000/oauth.
 * Environment: PORT (3000), HOST (127.0.0.1), TOLLGATE_DATA_DIR (./data-host-platform).
 */
import { buildHostPlatform } from './app.js';

const port = Number(process.env['PORT'] ?? 3000);
const host = process.env['HOST'] ?? '127.0.0.1';
const platform = await buildHostPlatform({ origin: `http://localhost:${port}`, dataDir: process.env['TOLLGATE_DATA_DIR'] ?? 'data-host-platform' });
await platform.addUser({ email: 'ann@acme.example', name: 'Ann Example', password: 'ann-password-1', admin: true });
await platform.app.listen({ port, host });
process.stdout.write(`Acme Notes on http://localhost:${port} (Tollgate's issuer http://localhost:${port}/oauth)\n`);
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => void platform.close().then(() => process.exit(0)));
