/**
 * The curl walkthrough (docs/walkthrough.md, moved out of the README by issue #16 §5) and the
 * README's five-minute tour must work verbatim (issue #2 §1): this runs every `sh` block, in order, in one bash against a fresh server (only the port is
 * changed, so CI never collides with something on 8080), and checks what each step prints.
 * Needs the built CLI (`npm test` builds first) and curl.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../helpers/server.js';

const root = join(import.meta.dirname, '..', '..');

function walkthroughScript(): string {
  // The walkthrough moved from the README to docs/walkthrough.md (issue #16 §5): the whole page.
  const section = readFileSync(join(root, 'docs', 'walkthrough.md'), 'utf8');
  return [...section.matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => m[1]).join('\n');
}

describe('README walkthrough, verbatim', () => {
  let server: ChildProcess;
  let dir: string;
  let port: number;
  const env = (): NodeJS.ProcessEnv => ({ ...process.env, PORT: String(port), TOLLGATE_DATA_DIR: join(dir, 'data'), TOLLGATE_LOG_LEVEL: 'silent' });

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tollgate-readme-'));
    // A stand-in checkout: the README's `tollgate` runs dist/cli/main.js from the current directory.
    symlinkSync(join(root, 'dist'), join(dir, 'dist'));
    port = await freePort();
    server = spawn(process.execPath, [join(root, 'dist/cli/main.js'), 'serve'], { cwd: dir, env: env(), stdio: ['ignore', 'pipe', 'pipe'] });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('server did not start')), 20_000);
      server.stdout?.on('data', (d: Buffer) => {
        if (d.toString().includes('Tollgate is serving')) {
          clearTimeout(timer);
          resolve();
        }
      });
      server.on('exit', (code) => reject(new Error(`server exited ${code}`)));
    });
  });
  afterAll(() => {
    server?.kill('SIGTERM');
    rmSync(dir, { recursive: true, force: true });
  });

  it("the README's five-minute tour works verbatim", () => {
    const readme = readFileSync(join(root, 'README.md'), 'utf8');
    const start = readme.indexOf('## A five-minute tour');
    const tour = readme.slice(start, readme.indexOf('\n## ', start + 1));
    const script = [...tour.matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => m[1]).join('\n').replaceAll('localhost:8080', `localhost:${port}`);
    expect(script).toContain('grant_type=client_credentials');
    const run = spawnSync('bash', ['-c', script], { cwd: dir, env: env(), encoding: 'utf8', timeout: 60_000 });
    expect(run.status, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/^\{"access_token":"tga_[A-Za-z0-9_-]{43}","token_type":"Bearer","expires_in":3600,"scope":"profile"\}$/);
  }, 90_000);

  it('every step of docs/walkthrough.md prints what it says it does', () => {
    const script = walkthroughScript().replaceAll('localhost:8080', `localhost:${port}`);
    const run = spawnSync('bash', ['-c', script], { cwd: dir, env: env(), encoding: 'utf8', timeout: 120_000 });
    const out = run.stdout;
    expect(run.status, run.stderr).toBe(0);
    expect(out).toContain(`http://localhost:${port}/oauth/token`);
    expect(out).toMatch(/"access_token":"tga_[A-Za-z0-9_-]{43}","token_type":"Bearer","expires_in":3600,"scope":"profile"/);
    expect(out).toMatch(/http:\/\/127\.0\.0\.1:9000\/callback\?code=tgo_[A-Za-z0-9_-]{43}&state=af0ifjsldkj&iss=/);
    expect(out).toContain('"email":"alice@example.com"');
    expect(out).toContain('{"error":"invalid_grant","error_description":"The authorization code is invalid, expired or already used"}');
    expect(out).toMatch(/rotated: tgr_/);
    expect(out.match(/The refresh token is invalid, expired or revoked/g)?.length).toBe(2);
    expect(out).toContain('{"error":"invalid_grant","error_description":"Invalid username or password"}');
    expect(out).toMatch(/https:\/\/widget\.example\/cb#access_token=tga_[^&]+&token_type=Bearer&expires_in=3600&scope=profile&state=xyz/);
    expect(out).toMatch(/"device_code":"tgd_[A-Za-z0-9_-]{43}","user_code":"[B-Z]{4}-[B-Z]{4}","verification_uri":"http:\/\/localhost:\d+\/device","verification_uri_complete":"http:\/\/localhost:\d+\/device\?user_code=[B-Z]{4}-[B-Z]{4}","expires_in":600,"interval":5/);
    expect(out).toContain('{"error":"authorization_pending","error_description":"The person has not answered yet"}');
    // After the person allowed on the verification page (200), the device's next poll gets its tokens.
    expect(out.slice(out.indexOf('"error":"authorization_pending"'))).toMatch(/^[^\n]*\n200\n\{"access_token":"tga_[A-Za-z0-9_-]{43}","token_type":"Bearer","expires_in":3600,"scope":"profile"\}\n/);
    expect(out).toContain('{"active":false}');
    expect(out).toContain('error="invalid_token"');
    expect(out).toContain('"typ":"at+jwt"');
    expect(out).toContain('"registration_access_token":"tgreg_');
    expect(out).toContain('"client_name":"Gancio mobile"');
    // Token exchange (RFC 8693): the issued type, the actor in `act`, and impersonation refused by the policy.
    expect(out).toMatch(/^urn:ietf:params:oauth:token-type:access_token$/m);
    expect(out).toMatch(/^\{"sub":"tgc_[A-Za-z0-9_-]+"\}$/m);
    expect(out).toContain('{"error":"invalid_request","error_description":"\\"actor_token\\" is required: this application\'s token-exchange policy does not allow impersonation"}');
  }, 150_000);
});
