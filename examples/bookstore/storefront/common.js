// What both bookstore pages share: DOM helpers, the notice line, and JSON calls to the API behind
// the gateway. The session cookie the gateway set at sign-in authenticates every call; no script
// here ever sees a token.
'use strict';

const $ = (id) => document.getElementById(id);
const el = (tag, props = {}, ...children) => {
  const node = Object.assign(document.createElement(tag), props);
  for (const child of children) node.append(child);
  return node;
};

function notify(message, isError = false) {
  const notice = $('notice');
  notice.textContent = message;
  notice.classList.toggle('error', isError);
  notice.hidden = false;
}

async function api(path, options = {}) {
  const response = await fetch(path, { credentials: 'same-origin', headers: { accept: 'application/json', ...(options.body ? { 'content-type': 'application/json' } : {}) }, ...options });
  const body = response.status === 204 ? undefined : await response.json().catch(() => undefined);
  return { status: response.status, body };
}
