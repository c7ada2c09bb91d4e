/**
 * Branding of one instance: the product name, logo and primary colour its pages and emails show.
 * Set per instance (`createTollgate({ branding })`, or TOLLGATE_BRAND_* for `tollgate serve`).
 */
export interface Branding {
  /** Product name shown in the header and the page titles. */
  readonly name: string;
  /** Absolute https URL or a same-site path of a logo image; null for none. */
  readonly logoUrl: string | null;
  /** Primary colour as `#rgb` / `#rrggbb`; null for the default blue. */
  readonly color: string | null;
}

export const DEFAULT_BRANDING: Branding = { name: 'Tollgate', logoUrl: null, color: null };

/** The one rule for a brand colour (configuration validation uses it too). */
export const BRAND_COLOR = /^#(?:[0-9a-fA-F]{3}|[0-9a-fA-F]{6})$/;

/** Reads branding from `TOLLGATE_BRAND_NAME`, `TOLLGATE_BRAND_LOGO_URL`, `TOLLGATE_BRAND_COLOR`; invalid values are ignored. */
export function brandingFromEnv(env: Readonly<Record<string, string | undefined>>): Branding {
  const name = env['TOLLGATE_BRAND_NAME']?.trim();
  const logo = env['TOLLGATE_BRAND_LOGO_URL']?.trim();
  const color = env['TOLLGATE_BRAND_COLOR']?.trim();
  return {
    name: name && name.length <= 60 ? name : DEFAULT_BRANDING.name,
    logoUrl: logo && (/^https:\/\/[^\s"']+$/.test(logo) || /^\/[^/\s"'][^\s"']*$/.test(logo)) ? logo : null,
    color: color && BRAND_COLOR.test(color) ? color : null,
  };
}
