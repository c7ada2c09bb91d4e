/**
 * Browser-test support: launches Debian's Chromium through playwright-core, saves a screenshot
 * of every page a journey visits under test-results/, and serves a second origin (an OAuth
 * client's callback and a page that tries to frame Tollgate).
 */
import { existsSync, mkdirSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { describe } from 'vitest';
import { freePort } from '../helpers/server.js';

export const CHROMIUM = process.env['TOLLGATE_CHROMIUM'] ?? '/usr/bin/chromium';
export const RESULTS = join(process.cwd(), 'test-results');

/**
 * A suite of browser journeys: skipped with a loud message when Chromium is not installed (a fresh
 * machine), unless TOLLGATE_TEST_BROWSER=required (CI installs it) makes its absence a failure.
 */
export function describeBrowser(name: string, fn: () => void): void {
  if (existsSync(CHROMIUM) || process.env['TOLLGATE_TEST_BROWSER'] === 'required') {
    describe(name, fn);
    return;
  }
  process.stderr.write(
    `\n*** Browser journeys SKIPPED: no Chromium at ${CHROMIUM} (apt-get install -y chromium, or set TOLLGATE_CHROMIUM); TOLLGATE_TEST_BROWSER=required makes its absence a failure ***\n\n`,
  );
  describe.skip(name, fn);
}

export async function launch(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-quic',
      '--no-first-run',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

/** Saves numbered full-page screenshots for one journey: test-results/<journey>-NN-<name>.png. */
export function screenshots(journey: string): { shot(page: Page, name: string): Promise<string>; readonly files: string[] } {
  mkdirSync(RESULTS, { recursive: true });
  let n = 0;
  const files: string[] = [];
  return {
    files,
    async shot(page, name) {
      const file = join(RESULTS, `${journey}-${String(++n).padStart(2, '0')}-${name}.png`);
      await page.screenshot({ path: file, fullPage: true });
      files.push(file);
      return file;
    },
  };
}

export interface OtherOrigin {
  readonly url: string;
  /** Query strings of the requests the callback received. */
  readonly callbacks: string[];
  /** Sets the URL the /frame page embeds in an iframe. */
  frame(src: string): void;
  close(): Promise<void>;
}

/** A second origin: GET /callback (an OAuth client's redirect URI) and GET /frame (embeds a URL). */
export async function otherOrigin(): Promise<OtherOrigin> {
  const port = await freePort();
  const callbacks: string[] = [];
  let frameSrc = 'about:blank';
  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', `http://127.0.0.1:${port}`);
    if (url.pathname === '/callback') {
      callbacks.push(url.search);
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      res.end('<!doctype html><title>Client</title><h1>Back at the client</h1>');
      return;
    }
    if (url.pathname === '/frame') {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      res.end(`<!doctype html><title>Framing attempt</title><h1>Another site</h1><iframe id="victim" src="${frameSrc.replace(/"/g, '&quot;')}" width="800" height="600"></iframe>`);
      return;
    }
    res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${port}`,
    callbacks,
    frame(src) {
      frameSrc = src;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
