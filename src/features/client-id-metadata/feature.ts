/**
 * Client ID Metadata Documents (draft-ietf-oauth-client-id-metadata-document; issue #13;
 * docs/client-id-metadata.md): an application may use, as its client_id, the https URL of a JSON
 * document that describes it — how MCP clients (2025-11-25 and later) identify themselves to a
 * server they have never met, without registering. ./resolve.ts fetches and stores it, ./document.ts
 * checks it, ./policy.ts decides which URLs may be fetched, ./logo.ts keeps its logo.
 */
import type { Feature } from '../../oauth/feature.js';
import { resolveMetadataClient } from './resolve.js';
import { looksLikeMetadataUrl } from './policy.js';

export const clientIdMetadataFeature: Feature = {
  name: 'client-id-metadata-document',
  resolveClient: (ctx, clientId) => (looksLikeMetadataUrl(clientId) ? resolveMetadataClient(ctx, clientId).then((c) => c ?? null) : undefined),
  metadata: (ctx) => (ctx.config.cimd === 'on' ? { client_id_metadata_document_supported: true } : {}),
};
