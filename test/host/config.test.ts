/**
 * Issue #11 settings are checked at start like every other (O4): one line per problem, and the
 * combinations that would weaken the login are refused.
 */
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.js';
import { createTollgate } from '../../src/tollgate.js';

function problems(env: Record<string, string>): readonly string[] {
  try {
    loadConfig(env);
    return [];
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
}

describe('issue #11 configuration', () => {
  it('TOLLGATE_LOGIN_URL must be https (http only on localhost), without a fragment, credentials or its own challenge', () => {
    expect(problems({ TOLLGATE_LOGIN_URL: 'http://platform.example/login' })).toEqual(['TOLLGATE_LOGIN_URL: must be an https URL (plain http only for localhost)']);
    expect(problems({ TOLLGATE_LOGIN_URL: 'https://u:p@platform.example/login#x' })).toEqual(['TOLLGATE_LOGIN_URL: must not contain a fragment or credentials']);
    expect(problems({ TOLLGATE_LOGIN_URL: 'https://platform.example/login?login_challenge=1' })).toEqual(['TOLLGATE_LOGIN_URL: must not contain login_challenge (Tollgate adds it)']);
    expect(problems({ TOLLGATE_LOGIN_URL: 'not a url' })).toEqual(['TOLLGATE_LOGIN_URL: not a valid URL: "not a url"']);
    expect(loadConfig({ TOLLGATE_LOGIN_URL: 'http://localhost:3000/login', TOLLGATE_ADMIN_SUBJECTS: '1, 2' })).toMatchObject({ loginUrl: 'http://localhost:3000/login', adminSubjects: ['1', '2'] });
  });

  it('the admin and login scopes can never be given by dynamic registration', () => {
    expect(problems({ TOLLGATE_REGISTRATION_SCOPES: 'profile login admin' })).toEqual([
      'TOLLGATE_REGISTRATION_SCOPES: "admin" can only be given by an administrator',
      'TOLLGATE_REGISTRATION_SCOPES: "login" can only be given by an administrator',
    ]);
  });

  it('TOLLGATE_COMPAT names known profiles, or all', () => {
    expect(loadConfig({ TOLLGATE_COMPAT: 'Oro, anyfetch oro' }).compat).toEqual(['oro', 'anyfetch']);
    expect(loadConfig({ TOLLGATE_COMPAT: 'all' }).compat).toEqual(['anyfetch', 'fyle', 'oro', 'gancio', 'frappe']);
    expect(problems({ TOLLGATE_COMPAT: 'keycloak' })).toEqual(['TOLLGATE_COMPAT: unknown profile "keycloak"; use anyfetch, fyle, oro, gancio, frappe or all']);
  });

  it('an instance with the host\'s login needs the host\'s accounts, and does not also delegate', async () => {
    const login = { currentUser: () => null, loginUrl: () => '/login' };
    await expect(createTollgate({ config: { TOLLGATE_DATA_DIR: join(tmpdir(), 'tollgate-never-created'), TOLLGATE_LOG_LEVEL: 'silent' }, login })).rejects.toThrow(
      "createTollgate: the host's login (`login`) needs the host's accounts (`accounts`) too",
    );
    await expect(
      createTollgate({ config: { TOLLGATE_DATA_DIR: join(tmpdir(), 'tollgate-never-created'), TOLLGATE_LOGIN_URL: 'https://platform.example/login', TOLLGATE_LOG_LEVEL: 'silent' }, login, accounts: { byId: () => null } }),
    ).rejects.toThrow("TOLLGATE_LOGIN_URL: an instance with the host's own login (createTollgate({ login })) does not delegate sign-in as well");
    // Refused before anything was opened or written.
    expect(existsSync(join(tmpdir(), 'tollgate-never-created'))).toBe(false);
  });
});
