// The bookstore page: plain JavaScript against the API behind the gateway (helpers in common.js).
'use strict';

function renderAccount(me) {
  const nav = $('account');
  nav.replaceChildren();
  if (!me) {
    nav.append(el('a', { className: 'button', href: `/login?return_to=${encodeURIComponent(location.pathname)}`, textContent: 'Sign in' }));
    return;
  }
  const logout = el('form', { method: 'post', action: '/logout' }, el('button', { type: 'submit', textContent: 'Sign out' }));
  // The account page is the Security Service's, reached through the gateway (docs/account-page.md).
  const account = el('a', { href: '/account', textContent: 'Account' });
  nav.append(el('span', { textContent: `${me.username} (${me.roles.join(', ') || 'no roles'})` }), account, logout);
}

function renderBooks(books, me) {
  const list = $('books');
  list.replaceChildren();
  const canOrder = Boolean(me && me.permissions.some((p) => p === '*' || p === 'orders:create' || p === 'orders:*'));
  for (const book of books) {
    const order = el('button', { type: 'button', textContent: 'Order one', disabled: !canOrder || book.stock === 0 });
    order.addEventListener('click', () => placeOrder(book, me));
    list.append(el('li', {},
      el('div', { className: 'title', textContent: book.title }),
      el('div', { className: 'muted', textContent: book.author }),
      el('div', { className: 'row' }, el('span', { textContent: `$${book.price.toFixed(2)} · ${book.stock} in stock` }), order)));
  }
  if (books.length === 0) list.append(el('li', { className: 'muted', textContent: 'No books yet.' }));
}

function renderOrders(orders) {
  const list = $('orders');
  list.replaceChildren();
  for (const order of orders) {
    const lines = order.items.map((item) => `${item.quantity} × ${item.title}`).join(', ');
    list.append(el('li', {},
      el('div', { className: 'title', textContent: lines }),
      el('div', { className: 'muted', textContent: `$${order.total.toFixed(2)} · ${order.status} · ${new Date(order.createdAt * 1000).toLocaleString()}` })));
  }
  if (orders.length === 0) list.append(el('li', { className: 'muted', textContent: 'No orders yet.' }));
}

async function placeOrder(book, me) {
  const { status, body } = await api('/api/orders', { method: 'POST', body: JSON.stringify({ items: [{ bookId: book.id, quantity: 1 }] }) });
  if (status === 201) notify(`Ordered “${book.title}”. Order ${body.id.slice(0, 8)} is placed.`);
  else notify(body?.detail ?? body?.title ?? `The order was refused (${status}).`, true);
  await load(me);
}

async function load(knownMe) {
  const me = knownMe ?? (await api('/api/me')).body;
  const signedIn = me && typeof me.subject === 'string' ? me : undefined;
  renderAccount(signedIn);
  const books = await api('/api/books');
  renderBooks(books.body?.books ?? [], signedIn);
  $('orders-section').hidden = !signedIn;
  if (signedIn) {
    const orders = await api('/api/orders');
    if (orders.status === 200) renderOrders(orders.body.orders);
  }
}

load().catch(() => notify('The bookstore could not be reached.', true));
