/** HTML escaping for every page Gatehouse renders (the Security Service's and the gateway's). */

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

export function escapeHtml(value: unknown): string {
  return String(value).replace(/[&<>"']/g, (c) => ESCAPES[c]!);
}

/** Every page links it; src/shared/browser.ts serves it. */
export const FAVICON_PATH = '/favicon.ico';

/** The one HTML shell of every Gatehouse page: title, stylesheet (when there is one), favicon, a card. */
export function htmlPage(title: string, body: string, options: { stylesheet?: string | undefined; wide?: boolean } = {}): string {
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)} · Gatehouse</title>
${options.stylesheet ? `<link rel="stylesheet" href="${escapeHtml(options.stylesheet)}">\n` : ''}<link rel="icon" href="${FAVICON_PATH}" type="image/svg+xml">
</head>
<body>
<main class="card${options.wide ? ' wide' : ''}">
${body}
</main>
</body>
</html>`;
}

/** "1 second", "45 seconds", "2 minutes": how long a refused person waits, in words. */
export function waitInWords(seconds: number): string {
  const [count, unit] = seconds < 90 ? [seconds, 'second'] : [Math.ceil(seconds / 60), 'minute'];
  return `${count} ${unit}${count === 1 ? '' : 's'}`;
}
