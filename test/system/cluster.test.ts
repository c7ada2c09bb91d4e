/**
 * `tollgate serve --workers N` (issue #5): one port, N processes, bootstrapped once; every worker
 * honours a deactivation at once; a killed worker is replaced; SIGTERM drains them all, exit 0.
 * Runs the built CLI (dist/), exactly what `npm start` runs.
 */
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { createRuntime, type Runtime } from '../../src/runtime.js';
import { createApp, setAppActive, type CreatedApp } from '../../src/services/apps.js';
import { basic, postForm } from '../helpers/server.js';

const CLI = join(import.meta.dirname, '..', '..', 'dist', 'cli', 'main.js');

function childrenOf(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return execFileSync('pgrep', ['-P', String(pid)]).toString().trim().split('\n').filter(Boolean).map(Number);
  }
}

describe('serve --workers 2 (SQLite)', () => {
  let dataDir: string;
  let child: ChildProcess;
  let url: string;
  let output = '';
  let runtime: Runtime;
  let app: CreatedApp;

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'tollgate-cluster-'));
    const env = {
      PATH: process.env['PATH'] ?? '',
      TOLLGATE_DATA_DIR: dataDir,
      TOLLGATE_ADMIN_PASSWORD: 'cluster-admin-password',
      TOLLGATE_LOG_LEVEL: 'silent',
      PORT: '0',
      HOST: '127.0.0.1',
    };
    child = spawn(process.execPath, [CLI, 'serve', '--workers', '2', '--json'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stderr?.on('data', (d: Buffer) => (output += d.toString()));
    url = await new Promise<string>((resolve, reject) => {
      let out = '';
      child.stdout?.on('data', (d: Buffer) => {
        out += d.toString();
        try {
          resolve((JSON.parse(out) as { url: string }).url);
        } catch {
          // not complete yet
        }
      });
      child.once('exit', (code) => reject(new Error(`exited ${code}: ${output}`)));
      setTimeout(() => reject(new Error(`no url after 30 s: ${output}`)), 30_000).unref();
    });
    runtime = await createRuntime(loadConfig({ TOLLGATE_DATA_DIR: dataDir }));
    app = await createApp(runtime.ctx, { name: 'Cluster', grantTypes: ['client_credentials'], scopes: ['profile'] });
  }, 60_000);

  afterAll(async () => {
    if (child.exitCode === null) child.kill('SIGKILL');
    await runtime?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  const token = () =>
    postForm(`${url}/oauth/token`, { grant_type: 'client_credentials' }, { authorization: basic(app.client.clientId, app.clientSecret ?? ''), connection: 'close' });

  it('bootstraps once, prints one banner, and runs two workers behind one port', async () => {
    expect(output.match(/Created a ES256 signing key/g)).toHaveLength(1);
    expect(output.match(/Tollgate is serving on/g)).toHaveLength(1);
    expect(output).toMatch(/workers {7}2 processes/);
    expect(childrenOf(child.pid as number)).toHaveLength(2);
    const answers = await Promise.all(Array.from({ length: 40 }, token));
    expect(answers.map((r) => r.status)).toEqual(Array(40).fill(200));
  });

  it('a deactivation is honoured by every worker on the very next request', async () => {
    expect((await token()).status).toBe(200);
    await setAppActive(runtime.ctx, app.client.clientId, false);
    const answers = await Promise.all(Array.from({ length: 20 }, token));
    for (const r of answers) {
      expect(r.status).toBe(401);
      expect(r.json).toEqual({ error: 'invalid_client', error_description: 'This application is deactivated' });
    }
    await setAppActive(runtime.ctx, app.client.clientId, true);
    expect((await token()).status).toBe(200);
  });

  it('a worker that dies is replaced, and the port keeps answering', async () => {
    const [victim] = childrenOf(child.pid as number);
    process.kill(victim as number, 'SIGKILL');
    const deadline = Date.now() + 15_000;
    while (!/worker \d \(pid \d+\) is serving again/.test(output) && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(output).toMatch(/worker \d exited \(SIGKILL\); starting a new one/);
    expect(output).toMatch(/is serving again/);
    const workers = childrenOf(child.pid as number);
    expect(workers).toHaveLength(2);
    expect(workers).not.toContain(victim);
    expect((await token()).status).toBe(200);
  }, 20_000);

  it('SIGTERM drains every worker and exits 0', async () => {
    const workers = childrenOf(child.pid as number);
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    for (const pid of workers) expect(() => process.kill(pid, 0)).toThrow();
  }, 20_000);
});

describe('serve --workers 2 that cannot start', () => {
  it('a worker that dies before listening (the port is taken) stops the cluster: exit 1, no worker left', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'tollgate-cluster-bad-'));
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const port = (blocker.address() as AddressInfo).port;
    try {
      const env = { PATH: process.env['PATH'] ?? '', TOLLGATE_DATA_DIR: dataDir, TOLLGATE_LOG_LEVEL: 'silent', PORT: String(port), HOST: '127.0.0.1' };
      const proc = spawn(process.execPath, [CLI, 'serve', '--workers', '2'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      proc.stdout?.on('data', (d: Buffer) => (out += d.toString()));
      proc.stderr?.on('data', (d: Buffer) => (out += d.toString()));
      const code = await new Promise<number | null>((resolve) => proc.once('exit', (c) => resolve(c)));
      expect(code).toBe(1);
      expect(out).toMatch(/worker \d exited before listening \(code \d+\); stopping every worker/);
      expect(out).not.toMatch(/Tollgate is serving on/);
    } finally {
      blocker.close();
      rmSync(dataDir, { recursive: true, force: true });
    }
  }, 30_000);
});
