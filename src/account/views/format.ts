/** Small formatting helpers of the account page: times in UTC, lists, escaped. */
import { escapeHtml as e } from '../../oauth/index.ts';

/** `2026-12-06 06:22 UTC` inside a <time> element; "—" when unknown. */
export function when(epochSeconds: number | undefined): string {
  if (epochSeconds === undefined) return '—';
  const iso = new Date(epochSeconds * 1000).toISOString();
  return `<time datetime="${e(iso)}">${e(`${iso.slice(0, 10)} ${iso.slice(11, 16)} UTC`)}</time>`;
}

/** Comma-separated, each item escaped and set as code; "—" when empty. */
export function codes(items: readonly string[]): string {
  return items.length === 0 ? '—' : items.map((item) => `<code>${e(item)}</code>`).join(', ');
}

/** The hidden CSRF field every form carries. */
export function csrfField(csrf: string): string {
  return `<input type="hidden" name="csrf" value="${e(csrf)}">`;
}

/** A form that is just one button (End, Revoke, Disconnect …), with hidden fields. */
export function buttonForm(action: string, csrf: string, label: string, fields: Record<string, string> = {}, options: { secondary?: boolean; describedBy?: string } = {}): string {
  const hidden = Object.entries(fields).map(([name, value]) => `<input type="hidden" name="${e(name)}" value="${e(value)}">`).join('');
  const cls = options.secondary ? ' class="secondary"' : '';
  const describedBy = options.describedBy ? ` aria-describedby="${e(options.describedBy)}"` : '';
  return `<form method="post" action="${e(action)}" class="inline">${csrfField(csrf)}${hidden}<button type="submit"${cls}${describedBy}>${e(label)}</button></form>`;
}

/**
 * A table with a caption and column headers; `rows` are already-rendered cells, the first one the
 * row's header. On a phone the stylesheet stacks each row as a card and labels every cell from
 * `data-label`; the explicit ARIA roles keep the table semantics that `display: block` would lose
 * in some browsers.
 */
export function table(caption: string, headers: readonly string[], rows: readonly string[][]): string {
  const head = headers.map((h) => `<th scope="col" role="columnheader">${e(h)}</th>`).join('');
  const cell = (content: string, i: number) => {
    if (i === 0) return `<th scope="row" role="rowheader">${content}</th>`;
    const label = headers[i] === 'Action' ? '' : ` data-label="${e(headers[i] ?? '')}"`;
    return `<td role="cell"${label}>${content}</td>`;
  };
  const body = rows.map((cells) => `<tr role="row">${cells.map(cell).join('')}</tr>`).join('\n');
  return `<div class="table-wrap"><table role="table">\n<caption>${e(caption)}</caption>\n<thead role="rowgroup"><tr role="row">${head}</tr></thead>\n<tbody role="rowgroup">\n${body}\n</tbody>\n</table></div>`;
}
