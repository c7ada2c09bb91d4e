/**
 * Issue #16 §3: the settings are declared once (src/settings.ts), and the validation, the
 * defaults, the config-file keys, the documentation tables and the config file's JSON Schema
 * all come from that declaration. These tests fail when one of them drifts from it.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Value } from 'typebox/value';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.js';
import { CONFIG_FILE_KEYS, CONFIG_FILE_SCHEMA, SETTINGS, configFileSchemaJson, settingsTable, withSettingsTables, type IntKey, type SettingKey } from '../../src/settings.js';

const docs = join(import.meta.dirname, '..', '..', 'docs');
const dir = mkdtempSync(join(tmpdir(), 'tollgate-config-doc-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function problemsOf(env: Record<string, string>): string[] {
  try {
    loadConfig({ TOLLGATE_DATA_DIR: dir, ...env });
    return [];
  } catch (err) {
    if (err instanceof ConfigError) return [...err.problems];
    throw err;
  }
}

describe('configuration from one declaration (issue #16 §3)', () => {
  it.each(['configuration.md', 'pages.md'])('docs/%s holds exactly the generated tables (run `npm run docs:config` after changing src/settings.ts)', (page) => {
    const text = readFileSync(join(docs, page), 'utf8');
    expect(text).toContain('<!-- settings:');
    expect(withSettingsTables(text), `docs/${page} differs from src/settings.ts: run \`npm run docs:config\``).toBe(text);
  });

  it('every setting is in exactly one table, and every table row is a setting', () => {
    const rows = ['configuration', 'mail', 'branding'].flatMap((t) =>
      settingsTable(t as 'configuration').split('\n').slice(2).map((r) => /^\| `([A-Z_]+)` \|/.exec(r)?.[1]),
    );
    expect(rows.sort()).toEqual(Object.keys(SETTINGS).sort());
  });

  it('docs/tollgate-config.schema.json is the generated JSON Schema (run `npm run docs:config`)', () => {
    expect(readFileSync(join(docs, 'tollgate-config.schema.json'), 'utf8')).toBe(configFileSchemaJson());
  });

  it('the JSON Schema accepts a file of every key and refuses an unknown one', () => {
    const every = Object.fromEntries(CONFIG_FILE_KEYS.map((k) => [k, 'x']));
    expect(Value.Check(CONFIG_FILE_SCHEMA, every)).toBe(true);
    expect(Value.Check(CONFIG_FILE_SCHEMA, { PORT: 8080, TOLLGATE_REGISTRATION_SCOPES: ['profile'] })).toBe(true);
    expect(Value.Check(CONFIG_FILE_SCHEMA, { TOLLGATE_PORT: 8080 })).toBe(false);
    expect(Value.Check(CONFIG_FILE_SCHEMA, { PORT: 70000 })).toBe(false);
    expect(CONFIG_FILE_KEYS).not.toContain('TOLLGATE_CONFIG');
  });

  it('a config file may hold every declared key (none is "unknown") and nothing else', () => {
    // Each key at its declared default where it has one: the file must load without a problem about keys.
    const file = join(dir, 'all.json');
    const values: Record<string, unknown> = {};
    for (const key of CONFIG_FILE_KEYS) {
      const s = SETTINGS[key as SettingKey];
      if (s.kind === 'text' && s.def === null) continue;
      values[key] = s.def;
    }
    writeFileSync(file, JSON.stringify(values));
    expect(problemsOf({ TOLLGATE_CONFIG: file })).toEqual([]);
    writeFileSync(file, JSON.stringify({ PORT: 8080, TOLLGATE_NOT_A_SETTING: '1' }));
    expect(problemsOf({ TOLLGATE_CONFIG: file })).toEqual([`TOLLGATE_CONFIG: unknown key "TOLLGATE_NOT_A_SETTING" in ${file}`]);
  });

  it('every whole-number setting is bounded by its declaration: min and max accepted, one past each refused with the exact message', () => {
    const ints = (Object.keys(SETTINGS) as SettingKey[]).filter((k): k is IntKey => SETTINGS[k].kind === 'int');
    expect(ints.length).toBe(27);
    for (const key of ints) {
      const { min, max } = SETTINGS[key];
      // The CIMD cache bounds are also checked against each other; keep the pair consistent.
      const pair: Record<string, string> =
        key === 'TOLLGATE_CIMD_CACHE_MIN' ? { TOLLGATE_CIMD_CACHE_MAX: String(30 * 86400) } : key === 'TOLLGATE_CIMD_CACHE_MAX' ? { TOLLGATE_CIMD_CACHE_MIN: '0' } : {};
      expect(problemsOf({ ...pair, [key]: String(min) }), key).toEqual([]);
      expect(problemsOf({ ...pair, [key]: String(max) }), key).toEqual([]);
      expect(problemsOf({ ...pair, [key]: String(max + 1) })).toEqual([`${key}: must be between ${min} and ${max}, got ${max + 1}`]);
      if (min > 0) expect(problemsOf({ ...pair, [key]: String(min - 1) })).toEqual([`${key}: must be between ${min} and ${max}, got ${min - 1}`]);
    }
  });

  it('the defaults are the declared ones', () => {
    const c = loadConfig({ TOLLGATE_DATA_DIR: dir });
    expect(c.port).toBe(SETTINGS.PORT.def);
    expect(c.host).toBe(SETTINGS.HOST.def);
    expect(c.keyAlg).toBe(SETTINGS.TOLLGATE_KEY_ALG.def);
    expect(c.accessTtl).toBe(SETTINGS.TOLLGATE_ACCESS_TTL.def);
    expect(c.refreshTtl).toBe(SETTINGS.TOLLGATE_REFRESH_TTL.def);
    expect(c.codeTtl).toBe(SETTINGS.TOLLGATE_CODE_TTL.def);
    expect(c.registration).toBe(SETTINGS.TOLLGATE_REGISTRATION.def);
    expect(c.registrationScopes).toEqual(SETTINGS.TOLLGATE_REGISTRATION_SCOPES.def);
    expect(c.registrationGrantTypes).toEqual(SETTINGS.TOLLGATE_REGISTRATION_GRANT_TYPES.def);
    expect(c.corsOrigins).toEqual(SETTINGS.TOLLGATE_CORS_ORIGINS.def);
    expect(c.adminEmail).toBe(SETTINGS.TOLLGATE_ADMIN_EMAIL.def);
    expect(c.allowPlainPkce).toBe(SETTINGS.TOLLGATE_ALLOW_PLAIN_PKCE.def);
    expect(c.cimd).toBe(SETTINGS.TOLLGATE_CIMD.def);
    expect(c.cimdMaxBytes).toBe(SETTINGS.TOLLGATE_CIMD_MAX_BYTES.def);
    expect(c.issuer).toBe(`http://localhost:${SETTINGS.PORT.def}`);
    // And the literal values the documentation promised before the declaration existed.
    expect([c.port, c.host, c.keyAlg, c.accessTtl, c.refreshTtl, c.codeTtl, c.sessionTtl]).toEqual([8080, '127.0.0.1', 'ES256', 3600, 31_536_000, 60, 28_800]);
  });

  it('enumerations and booleans report the declared choices', () => {
    expect(problemsOf({ TOLLGATE_KEY_ALG: 'HS256' })).toEqual(['TOLLGATE_KEY_ALG: expected one of ES256, RS256, EdDSA, got "HS256"']);
    expect(problemsOf({ TOLLGATE_LOG_LEVEL: 'loud' })).toEqual(['TOLLGATE_LOG_LEVEL: expected one of fatal, error, warn, info, debug, trace, silent, got "loud"']);
    expect(problemsOf({ TOLLGATE_ALLOW_PLAIN_PKCE: 'maybe' })).toEqual(['TOLLGATE_ALLOW_PLAIN_PKCE: expected true or false, got "maybe"']);
  });
});
