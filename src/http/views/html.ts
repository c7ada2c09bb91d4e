/**
 * A tiny tagged template over `escape-html`: every interpolated value is escaped unless it is
 * already `SafeHtml` (a nested template). Escaping itself is the library's, not ours.
 */
import escapeHtml from 'escape-html';

export class SafeHtml {
  constructor(readonly value: string) {}
  toString(): string {
    return this.value;
  }
}

export type Part = string | number | boolean | null | undefined | SafeHtml | readonly Part[];

function render(part: Part): string {
  if (part === null || part === undefined || part === false) return '';
  if (part instanceof SafeHtml) return part.value;
  if (Array.isArray(part)) return part.map((p: Part) => render(p)).join('');
  return escapeHtml(String(part));
}

/** One value as HTML: escaped, unless it is already `SafeHtml`. */
export function fragment(part: Part): string {
  return render(part);
}

export function html(strings: TemplateStringsArray, ...values: Part[]): SafeHtml {
  let out = strings[0] ?? '';
  values.forEach((v, i) => {
    out += render(v) + (strings[i + 1] ?? '');
  });
  return new SafeHtml(out);
}
