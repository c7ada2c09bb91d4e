/** Server processes: start, wait until they answer, read their CPU time and RSS, stop them. */
import { spawn, spawnSync, execFileSync, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';

const CLK_TCK = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100;
  } catch {
    return 100;
  }
})();

export interface Server {
  readonly name: string;
  readonly port: number;
  readonly base: string;
  readonly proc: ChildProcess;
  readonly pid: number;
  stderr(): string;
  stop(): Promise<void>;
}

const running = new Set<Server>();

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.unref();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const addr = s.address();
      s.close(() => resolve(typeof addr === 'object' && addr ? addr.port : 0));
    });
  });
}

export async function startServer(
  name: string,
  args: readonly string[],
  env: Record<string, string>,
  readyPath: string,
  port?: number,
): Promise<Server> {
  const p = port ?? (await freePort());
  // BENCH_PROFILE=<dir>: every server writes a V8 CPU profile there when it stops.
  const profile = process.env['BENCH_PROFILE'];
  const nodeArgs = profile ? ['--cpu-prof', `--cpu-prof-dir=${profile}`, ...args] : args;
  const proc = spawn(process.execPath, nodeArgs, {
    env: { ...process.env, ...env, PORT: String(p), HOST: '127.0.0.1' },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let err = '';
  proc.stderr?.on('data', (d: Buffer) => {
    err = (err + d.toString()).slice(-4000);
  });
  const base = `http://127.0.0.1:${p}`;
  const server: Server = {
    name,
    port: p,
    base,
    proc,
    pid: proc.pid ?? 0,
    stderr: () => err,
    stop: () =>
      new Promise<void>((resolve) => {
        running.delete(server);
        if (proc.exitCode !== null || proc.signalCode !== null) return resolve();
        const t = setTimeout(() => proc.kill('SIGKILL'), 5000);
        proc.once('exit', () => {
          clearTimeout(t);
          resolve();
        });
        proc.kill('SIGTERM');
      }),
  };
  running.add(server);
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (proc.exitCode !== null) throw new Error(`${name} exited during start (code ${proc.exitCode}):\n${err}`);
    try {
      const r = await fetch(base + readyPath);
      await r.arrayBuffer();
      if (r.status < 500) return server;
    } catch {
      /* not listening yet */
    }
    if (Date.now() > deadline) {
      await server.stop();
      throw new Error(`${name} did not start within 30 s:\n${err}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

export async function stopAll(): Promise<void> {
  await Promise.all([...running].map((s) => s.stop()));
}

/** utime + stime of a process, in milliseconds (from /proc/<pid>/stat). */
/** CPU time of a process (all its threads) plus its live children: `serve --workers N` forks. */
export function cpuMs(pid: number): number {
  let children: number[] = [];
  try {
    children = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    // no children file: count the process alone
  }
  return ownCpuMs(pid) + children.reduce((sum, child) => sum + ownCpuMs(child), 0);
}

/** CPU time of a process's main thread alone (the event loop; not GC helpers, libuv or workers). */
export function mainThreadCpuMs(pid: number): number {
  return ownCpuMs(pid, `/proc/${pid}/task/${pid}/stat`);
}

function ownCpuMs(pid: number, file = `/proc/${pid}/stat`): number {
  const stat = readFileSync(file, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // fields[0] is field 3 (state): utime is field 14, stime field 15
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLK_TCK;
}

export function rssMb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const m = /VmRSS:\s+(\d+) kB/.exec(status);
  return m ? Number(m[1]) / 1024 : 0;
}

/** Run a command synchronously with env, return stdout (throws with stderr on failure). */
export function runCli(args: readonly string[], env: Record<string, string>): string {
  return execFileSync(process.execPath, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] }).toString();
}

/** Is wrk (the Debian package) installed? */
export function wrkAvailable(): boolean {
  return spawnSync('wrk', ['--version']).error === undefined;
}
