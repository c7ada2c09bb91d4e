/** Settings for a Tollgate instance a test builds itself with `createTollgate` (embedding tests). */
export function hostEnv(dir: string, issuer: string): Record<string, string> {
  return {
    TOLLGATE_ISSUER: issuer,
    TOLLGATE_DATA_DIR: dir,
    TOLLGATE_ADMIN_PASSWORD: 'admin-password-123',
    TOLLGATE_LOG_LEVEL: 'silent',
    TOLLGATE_PURGE_INTERVAL: '0',
    TOLLGATE_LOGIN_RATE_LIMIT: '100000',
    TOLLGATE_CLIENT_AUTH_FAILURE_LIMIT: '100000',
    TOLLGATE_REGISTRATION_RATE_LIMIT: '100000',
  };
}
