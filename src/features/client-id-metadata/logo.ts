/**
 * Logos of Client ID Metadata Document clients: fetched through the outbound guard, checked to
 * be a raster image Tollgate recognises by its first bytes (PNG, JPEG, GIF, WebP — never SVG,
 * which can carry script), bounded, stored, and served from Tollgate's own origin
 * (`/client-logo`, clientLogoRoutes in src/http/routes/ops.ts), so that no page hot-links a URL someone else controls. A logo that
 * cannot be fetched is simply absent: it never fails the application.
 */
import type { OAuthContext } from '../../oauth/context.js';
import type { ClientLogo } from '../../storage/types.js';

export const MAX_LOGO_BYTES = 100 * 1024;

/** The image type of these bytes, by signature; null for anything else. */
export function imageType(data: Buffer): string | null {
  if (data.length >= 8 && data.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]))) return 'image/png';
  if (data.length >= 3 && data[0] === 0xff && data[1] === 0xd8 && data[2] === 0xff) return 'image/jpeg';
  if (data.length >= 6 && (data.subarray(0, 6).toString('latin1') === 'GIF87a' || data.subarray(0, 6).toString('latin1') === 'GIF89a')) return 'image/gif';
  if (data.length >= 12 && data.subarray(0, 4).toString('latin1') === 'RIFF' && data.subarray(8, 12).toString('latin1') === 'WEBP') return 'image/webp';
  return null;
}

/** Where Tollgate serves the copy. */
export function logoUrl(ctx: OAuthContext, clientId: string): string {
  return `${ctx.config.issuer}/client-logo?client_id=${encodeURIComponent(clientId)}`;
}

export async function fetchLogo(ctx: OAuthContext, source: string): Promise<ClientLogo | null> {
  try {
    const res = await ctx.outbound(source, {
      headers: { Accept: 'image/png, image/jpeg, image/gif, image/webp' },
      timeoutMs: ctx.config.cimdTimeoutMs,
      maxBytes: MAX_LOGO_BYTES,
      ...(ctx.config.cimdInsecureLoopback ? { allowLoopback: true } : {}),
    });
    if (res.status !== 200) return null;
    const contentType = imageType(res.body);
    return contentType === null ? null : { contentType, data: res.body, fetchedAt: ctx.now() };
  } catch {
    return null;
  }
}
