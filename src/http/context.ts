/** What the HTTP layer needs of an instance: its protocol context plus the login it uses. */
import type { OAuthContext } from '../oauth/context.js';
import type { LoginDriver } from '../login/types.js';

export interface HttpContext extends OAuthContext {
  readonly login: LoginDriver;
}
