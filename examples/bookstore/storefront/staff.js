// Staff page: every order, with refunds. The gateway lets only staff and admins load this page;
// the orders service decides again for each call (orders:read, orders:refund).
'use strict';

async function refund(order) {
  const { status, body } = await api(`/api/orders/${encodeURIComponent(order.id)}/refund`, { method: 'POST' });
  notify(status === 200 ? `Order ${order.id.slice(0, 8)} refunded.` : body?.detail ?? body?.title ?? `Refused (${status}).`, status !== 200);
  await load();
}

async function load() {
  const me = (await api('/api/me')).body;
  const nav = $('account');
  nav.replaceChildren(el('span', { textContent: me?.username ?? '' }), el('a', { href: '/account', textContent: 'Account' }), el('form', { method: 'post', action: '/logout' }, el('button', { type: 'submit', textContent: 'Sign out' })));
  const { status, body } = await api('/api/orders');
  const list = $('orders');
  list.replaceChildren();
  if (status !== 200) return notify(body?.detail ?? `Orders could not be loaded (${status}).`, true);
  for (const order of body.orders) {
    const button = el('button', { type: 'button', textContent: 'Refund', disabled: order.status !== 'placed' });
    button.addEventListener('click', () => refund(order));
    list.append(el('li', {},
      el('div', { className: 'title', textContent: `${order.ownerName}: ${order.items.map((i) => `${i.quantity} × ${i.title}`).join(', ')}` }),
      el('div', { className: 'row' }, el('span', { className: 'muted', textContent: `$${order.total.toFixed(2)} · ${order.status}` }), button)));
  }
  if (body.orders.length === 0) list.append(el('li', { className: 'muted', textContent: 'No orders yet.' }));
}

load().catch(() => notify('The bookstore could not be reached.', true));
