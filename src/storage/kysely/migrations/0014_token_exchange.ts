/**
 * 0014 (token exchange, RFC 8693; docs/token-exchange.md):
 * - clients.token_exchange: the application's token-exchange policy, set by an administrator, as
 *   one JSON object (`{"audiences": [...], "impersonation": bool, "refreshTokens": bool}`); null for
 *   none (the grant then issues nothing, even to an application that holds it).
 * - tokens.exchange: on a token made by an exchange (and on the tokens refreshed from it), what
 *   the exchange fixed, as one JSON object: the `act` claim (RFC 8693 §4.1; absent for
 *   impersonation) and the subject token's expiry that none of them may outlive. Null on every
 *   other token, so the hot paths write and read one more null column and nothing else.
 *
 * Revocation needs no column: an exchanged token joins the subject token's family, or, for a
 * subject token without one, the family named after the subject token's hash (`x.<hash>`).
 */
import type { Kysely, Migration } from 'kysely';

export function tokenExchangeMigration(): Migration {
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema.alterTable('clients').addColumn('token_exchange', 'text').execute();
      await db.schema.alterTable('tokens').addColumn('exchange', 'text').execute();
    },
    async down(db: Kysely<unknown>): Promise<void> {
      await db.schema.alterTable('tokens').dropColumn('exchange').execute();
      await db.schema.alterTable('clients').dropColumn('token_exchange').execute();
    },
  };
}
