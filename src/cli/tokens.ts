/** `tollgate tokens revoke …`: one token, all tokens of an app, or a user's tokens for one app (T9). */
import { Command } from 'commander';
import { revokeTokens } from '../services/tokens.js';
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
    if (opts.client !== undefined) await requireApp(ctx, opts.client);
    const result = await revokeTokens(ctx, { token, clientId: opts.client, userEmail: opts.user }, { via: 'cli' });
    if ('notFound' in result) {
      throw new CliError(result.notFound.startsWith('Unknown token') ? 'Unknown token: it was not issued by this server, or it has expired and been purged' : result.notFound);
    }
    const { revoked, what } = result;
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
