/**
 * Tollgate as `npm start` runs it (dist/), with one difference: its outbound client answers Client
 * ID Metadata Documents from memory, for the CIMD scenarios of `npm run bench`. Every call still
 * goes through the production checks — the URL rules (https only, no loopback setting) and the
 * connect-time address check on a DNS answer, here a stub resolver answering a public address —
 * and then, instead of connecting, answers `https://<name>.bench.example/client.json` with a
 * valid document whose client_id is that URL. What the figure measures is Tollgate's own work
 * (checks, parse, validation, the application's row), not a network.
 */
import { loadConfig } from '../../dist/config.js';
import { startServer } from '../../dist/server.js';
import { guardedLookup, outboundUrl, OutboundError, type Outbound, type OutboundResponse } from '../../dist/net/outbound.js';

const REDIRECT = process.env['BENCH_REDIRECT'] ?? 'http://127.0.0.1:9000/callback';
const policy = { allowLoopback: false };
const lookup = guardedLookup(policy, ((_host: string, _opts: object, cb: (e: null, a: Array<{ address: string; family: number }>) => void) =>
  cb(null, [{ address: '93.184.216.34', family: 4 }])) as unknown as typeof import('node:dns').lookup);

const outbound: Outbound = async (raw) => {
  const url = outboundUrl(raw, policy);
  await new Promise<void>((resolve, reject) =>
    lookup(url.hostname, { all: true }, (err) => (err ? reject(err) : resolve())),
  );
  if (!url.hostname.endsWith('.bench.example') || url.pathname !== '/client.json') {
    throw new OutboundError('network', `${url.protocol}//${url.host}: not served by the bench`);
  }
  const body = Buffer.from(JSON.stringify({ client_id: raw, client_name: `Agent ${url.hostname.split('.')[0]}`, redirect_uris: [REDIRECT], grant_types: ['authorization_code', 'refresh_token'], token_endpoint_auth_method: 'none', scope: 'profile' }));
  const res: OutboundResponse = { status: 200, headers: { 'content-type': 'application/json', 'cache-control': 'max-age=3600' }, body };
  return res;
};

await startServer(loadConfig(process.env), { instance: { outbound }, banner: false, handleSignals: true });
