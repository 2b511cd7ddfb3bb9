/**
 * Book Club's pages: plain server-rendered HTML, one stylesheet, no scripts. Everything shown
 * that came from elsewhere (names, titles, error texts) is escaped.
 */

export interface OrderSummary {
  id: string;
  items: Array<{ title: string; quantity: number }>;
  total: number;
  status: string;
  createdAt: number;
}

export type OrdersView =
  | { kind: 'orders'; orders: OrderSummary[] }
  /** The bookstore refused (token expired, revoked, app disconnected) or could not be reached. */
  | { kind: 'refused'; status: number; message: string };

export const STYLESHEET = `:root { color-scheme: light dark; --accent: #6b3fa0; }
body { margin: 0; font: 16px/1.5 system-ui, sans-serif; background: Canvas; color: CanvasText; }
main { width: min(40rem, 100% - 2rem); margin: 2rem auto; }
h1 { font-size: 1.6rem; margin-bottom: .25rem; }
.note { color: GrayText; }
.alert { padding: .75rem; border-left: 4px solid #b3261e; }
ul.orders { padding-left: 1.25rem; }
button { padding: .6rem 1rem; font: inherit; font-weight: 600; border: 0; border-radius: .25rem; background: var(--accent); color: #fff; cursor: pointer; }
button.secondary { background: transparent; color: CanvasText; border: 1px solid GrayText; }
button:focus { outline: 3px solid var(--accent); outline-offset: 2px; }
form { display: inline-block; margin: .5rem .5rem 0 0; }
`;

export function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}
const e = escapeHtml;

function layout(body: string): string {
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Book Club</title>
<link rel="stylesheet" href="/style.css">
</head>
<body>
<main>
<h1>Book Club</h1>
<p class="note">A third-party app: it reads your bookstore orders, with your permission, to suggest what the club reads next.</p>
${body}
</main>
</body>
</html>`;
}

export function welcomePage(message?: string): string {
  const alert = message ? `<p class="alert" role="alert">${e(message)}</p>` : '';
  return layout(`${alert}
<p>Connect your bookstore account to share your orders with the club. You will be asked to allow it; you can disconnect it at any time from your bookstore account.</p>
<form method="post" action="/connect"><button type="submit">Connect your bookstore account</button></form>`);
}

function ordersSection(view: OrdersView): string {
  if (view.kind === 'refused') return `<p class="alert" role="alert">The bookstore refused: ${e(String(view.status))} ${e(view.message)}</p>`;
  if (view.orders.length === 0) return '<p id="orders">You have no orders yet.</p>';
  const items = view.orders.map((order) => {
    const books = order.items.map((item) => `${item.quantity} × ${item.title}`).join(', ');
    const day = new Date(order.createdAt * 1000).toISOString().slice(0, 10);
    return `<li>${e(books)} — ${e(order.total.toFixed(2))} (${e(order.status)}, ${e(day)})</li>`;
  });
  return `<ul class="orders" id="orders">\n${items.join('\n')}\n</ul>`;
}

export function connectedPage(page: { name: string; scope: string; orders: OrdersView; attempt?: string }): string {
  const attempt = page.attempt ? `<p role="status" id="attempt">${e(page.attempt)}</p>` : '';
  return layout(`<p>Connected as <strong>${e(page.name)}</strong>, with the permission <code>${e(page.scope)}</code>.</p>
<h2>Your orders</h2>
<p class="note">Read through the bookstore's gateway, as you allowed.</p>
${ordersSection(page.orders)}
${attempt}
<form method="post" action="/try-order"><button type="submit" class="secondary">Try to place an order for you</button></form>
<form method="post" action="/logout"><button type="submit">Sign out</button></form>`);
}
