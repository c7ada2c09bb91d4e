/**
 * 0016 (issue #13; docs/client-id-metadata.md): Client ID Metadata Documents.
 * - clients.metadata_document: for an application whose client_id is the URL of its metadata
 *   document, what the last fetch recorded (JSON: when it was fetched, until when it is used, its
 *   ETag, the document's own logo URL); null for every other application.
 * - clients.metadata_host: that URL's host, indexed, so that blocking a host finds its applications
 *   without reading the table.
 * - client_logos: the logo Tollgate fetched for such an application (through the outbound guard)
 *   and serves itself, so that pages never hot-link a URL someone else controls.
 * - client_metadata_blocks: the administrators' block-list (a host, `*.` a domain's subdomains,
 *   or one exact client_id URL).
 */
import type { Kysely, Migration } from 'kysely';

export function clientMetadataMigration(): Migration {
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema.alterTable('clients').addColumn('metadata_document', 'text').execute();
      await db.schema.alterTable('clients').addColumn('metadata_host', 'text').execute();
      await db.schema.createIndex('clients_metadata_host_idx').on('clients').column('metadata_host').execute();
      await db.schema
        .createTable('client_logos')
        .addColumn('client_id', 'text', (col) => col.primaryKey().references('clients.client_id').onDelete('cascade'))
        .addColumn('content_type', 'text', (col) => col.notNull())
        .addColumn('data', 'text', (col) => col.notNull())
        .addColumn('fetched_at', 'bigint', (col) => col.notNull())
        .execute();
      await db.schema
        .createTable('client_metadata_blocks')
        .addColumn('pattern', 'text', (col) => col.primaryKey())
        .addColumn('reason', 'text')
        .addColumn('created_by', 'text')
        .addColumn('created_at', 'bigint', (col) => col.notNull())
        .execute();
    },
    async down(db: Kysely<unknown>): Promise<void> {
      await db.schema.dropTable('client_metadata_blocks').execute();
      await db.schema.dropTable('client_logos').execute();
      await db.schema.dropIndex('clients_metadata_host_idx').execute();
      await db.schema.alterTable('clients').dropColumn('metadata_host').execute();
      await db.schema.alterTable('clients').dropColumn('metadata_document').execute();
    },
  };
}
