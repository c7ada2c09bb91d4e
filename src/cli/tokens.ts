/** `tollgate tokens revoke …`: one token, all tokens of an app, or a user's tokens for one app (T9). */
import { Command } from 'commander';
import { revokeStoredToken } from '../services/tokens.js';
import { findTokenRow } from '../oauth/tokens/lookup.js';
import { requireUserByEmail } from '../services/directory.js';
import { action, CliError, emit, requireApp, readStdin, withJson, withRuntime, type JsonOption } from './shared.js';

interface RevokeOptions extends JsonOption {
  token?: string;
  client?: string;
  user?: string;
}

async function revoke(opts: RevokeOptions): Promise<void> {
  if (opts.token !== undefined && (opts.client !== undefined || opts.user !== undefined)) {
    throw new CliError('--token cannot be combined with --client or --user');
  }
  if (opts.user !== undefined && opts.client === undefined) {
    throw new CliError('--user needs --client (the application whose tokens to revoke)');
  }
  if (opts.token === undefined && opts.client === undefined) {
    throw new CliError('Give --token TOKEN, --client CLIENT_ID, or --user EMAIL --client CLIENT_ID');
  }
  const token = opts.token === '-' ? (await readStdin()).trim() : opts.token;
  await withRuntime(async ({ ctx }) => {
    const now = ctx.now();
    let revoked: number;
    let what: string;
    if (token !== undefined) {
      // A JWT is signature-checked and found by its jti; an opaque token by its hash.
      const row = await findTokenRow(ctx, token);
      if (!row) throw new CliError('Unknown token: it was not issued by this server, or it has expired and been purged');
      // Revoking a refresh token revokes its whole family (the access tokens issued with it too).
      revoked = await revokeStoredToken(ctx, row, { via: 'cli' });
      what = `the ${row.kind} token${row.kind === 'refresh' ? ' and its family' : ''}`;
    } else {
      const client = await requireApp(ctx, opts.client as string);
      if (opts.user !== undefined) {
        const user = await requireUserByEmail(ctx, opts.user);
        revoked = await ctx.storage.tokens.revokeByUserAndClient(user.id, client.clientId, now);
        await ctx.audit.record('token.revoked', {
          clientId: client.clientId,
          actorUserId: user.id,
          details: { revoked, via: 'cli', scope: 'user_and_client' },
        });
        what = `${user.email}'s tokens for ${client.clientId}`;
      } else {
        revoked = await ctx.storage.tokens.revokeByClient(client.clientId, now);
        await ctx.audit.record('token.revoked', { clientId: client.clientId, details: { revoked, via: 'cli', scope: 'client' } });
        what = `the tokens of ${client.clientId}`;
      }
    }
    emit(opts, { revoked }, () => `Revoked ${revoked} token${revoked === 1 ? '' : 's'} (${what})`);
  });
}

export function tokensCommand(): Command {
  const tokens = new Command('tokens').description('revoke tokens');
  withJson(
    tokens
      .command('revoke')
      .description('revoke one token, every token of an application, or one user\'s tokens for an application')
      .option('--token <token>', 'an access or refresh token ("-" reads it from stdin); a refresh token revokes its family')
      .option('--client <client_id>', 'every token of this application (or, with --user, that user\'s)')
      .option('--user <email>', 'with --client: only this user\'s tokens'),
  ).action(action(revoke));
  return tokens;
}
