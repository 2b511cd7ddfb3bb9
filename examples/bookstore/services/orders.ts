/**
 * The orders service.
 *
 *   POST /api/orders                 orders:create (customers) — reserves stock at the catalog
 *   GET  /api/orders                 signed in: your own orders; with orders:read, everyone's
 *   GET  /api/orders/:id             the owner, or a caller with orders:read (decided HERE, with the SDK)
 *   POST /api/orders/:id/refund      orders:refund (staff)
 *   GET  /api/users/:userId/orders   the gateway checks owner = params.userId; checked again here
 *
 * The gateway only requires a signed-in caller for GET /api/orders/:id: whether Dave may read
 * Alice's order is this service's decision, `identity.can('orders:read', { ownerId })`, which a
 * customer's `orders:read:own` grant passes only for their own orders.
 * Stock is reserved by calling the catalog over mutual TLS with this service's own
 * client-credentials token (it carries the role that grants catalog:reserve).
 */
import { randomUUID } from 'node:crypto';
import type { DatabaseSync } from 'node:sqlite';
import type { Dispatcher } from 'undici';
import { request } from 'undici';
import type { Identity, TokenSource } from '../../../src/sdk/index.ts';
import { HttpProblem, problems, readJson, requireIdentity, requirePermission, router, sendJson } from './http.ts';
import { itemsInput } from './catalog.ts';

export interface OrderLine {
  bookId: string;
  title: string;
  quantity: number;
  price: number;
}

export interface Order {
  id: string;
  owner: string;
  ownerName: string;
  items: OrderLine[];
  total: number;
  status: 'placed' | 'refunded';
  createdAt: number;
}

export function migrateOrders(db: DatabaseSync): void {
  db.exec("create table if not exists orders (id text primary key, owner text not null, owner_name text not null, items text not null, total_cents integer not null, status text not null check (status in ('placed', 'refunded')), created_at integer not null)");
  db.exec('create index if not exists orders_owner on orders (owner)');
}

const toOrder = (row: Record<string, unknown>): Order => ({
  id: String(row.id),
  owner: String(row.owner),
  ownerName: String(row.owner_name),
  items: JSON.parse(String(row.items)) as OrderLine[],
  total: Number(row.total_cents) / 100,
  status: row.status as Order['status'],
  createdAt: Number(row.created_at),
});

export interface CatalogClient {
  reserve(items: Array<{ bookId: string; quantity: number }>): Promise<OrderLine[]>;
  restock(items: Array<{ bookId: string; quantity: number }>): Promise<void>;
}

/** Calls the catalog over mTLS (`agent` verifies it is spiffe://…/svc/catalog) with our own token. */
export function catalogClient(options: { baseUrl: string; agent: Dispatcher; tokens: TokenSource }): CatalogClient {
  async function call(path: string, body: unknown): Promise<{ status: number; json: unknown }> {
    const response = await request(`${options.baseUrl}${path}`, {
      method: 'POST',
      dispatcher: options.agent,
      headers: { authorization: `Bearer ${await options.tokens.token()}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
      headersTimeout: 10_000,
      bodyTimeout: 10_000,
    });
    const text = await response.body.text();
    return { status: response.statusCode, json: text ? JSON.parse(text) : undefined };
  }
  return {
    async reserve(items) {
      const { status, json } = await call('/internal/reservations', { items });
      if (status === 201) return (json as { items: OrderLine[] }).items;
      const detail = (json as { title?: string } | undefined)?.title ?? `the catalog answered ${status}`;
      if (status === 404 || status === 409 || status === 422) throw new HttpProblem(status === 404 ? 422 : status, status === 409 ? 'conflict' : 'validation_failed', detail);
      throw new HttpProblem(502, 'bad_gateway', 'The catalog could not reserve the books');
    },
    async restock(items) {
      const { status } = await call('/internal/restocks', { items });
      if (status !== 204) throw new HttpProblem(502, 'bad_gateway', 'The catalog could not take the books back');
    },
  };
}

/** Everyone's orders for a caller holding orders:read unconditionally, otherwise their own. */
function visibleOrders(db: DatabaseSync, caller: Identity, owner?: string): Order[] {
  const all = caller.decide('orders:read').reason === 'granted';
  if (!all && owner !== undefined && owner !== caller.subject) throw problems.forbidden('You may only read your own orders');
  if (!all && !caller.can('orders:read', { ownerId: caller.subject })) throw problems.forbidden('This needs the permission orders:read:own');
  const who = all ? owner : caller.subject;
  const rows = who === undefined
    ? db.prepare('select * from orders order by created_at desc').all()
    : db.prepare('select * from orders where owner = ? order by created_at desc').all(who);
  return (rows as Array<Record<string, unknown>>).map(toOrder);
}

export function ordersRoutes(db: DatabaseSync, catalog: CatalogClient) {
  const find = (id: string) => {
    const row = db.prepare('select * from orders where id = ?').get(id) as Record<string, unknown> | undefined;
    if (!row) throw problems.notFound(`Order ${id}`);
    return toOrder(row);
  };

  return router([
    ['POST', '/api/orders', async ({ req, res, identity }) => {
      const caller = requirePermission(identity, 'orders:create');
      const { items } = await readJson(req, itemsInput);
      const lines = await catalog.reserve(items);
      const order: Order = {
        id: randomUUID(),
        owner: caller.subject,
        ownerName: typeof caller.claims.preferred_username === 'string' ? caller.claims.preferred_username : caller.subject,
        items: lines,
        total: Math.round(lines.reduce((sum, line) => sum + line.price * line.quantity, 0) * 100) / 100,
        status: 'placed',
        createdAt: Math.floor(Date.now() / 1000),
      };
      db.prepare('insert into orders (id, owner, owner_name, items, total_cents, status, created_at) values (?, ?, ?, ?, ?, ?, ?)')
        .run(order.id, order.owner, order.ownerName, JSON.stringify(order.items), Math.round(order.total * 100), order.status, order.createdAt);
      sendJson(res, 201, order, { location: `/api/orders/${order.id}` });
    }],
    ['GET', '/api/orders', ({ res, identity }) => sendJson(res, 200, { orders: visibleOrders(db, requireIdentity(identity)) })],
    ['GET', '/api/users/:userId/orders', ({ res, params, identity }) => sendJson(res, 200, { orders: visibleOrders(db, requireIdentity(identity), params.userId!) })],
    ['GET', '/api/orders/:id', ({ res, params, identity }) => {
      const caller = requireIdentity(identity);
      const order = find(params.id!);
      const decision = caller.decide('orders:read', { ownerId: order.owner });
      if (!decision.allow) throw problems.forbidden(decision.reason === 'not_owner' ? 'This order belongs to someone else' : 'This needs the permission orders:read');
      sendJson(res, 200, order);
    }],
    ['POST', '/api/orders/:id/refund', async ({ res, params, identity }) => {
      requirePermission(identity, 'orders:refund');
      const order = find(params.id!);
      if (order.status !== 'placed') throw problems.conflict(`Order ${order.id} is already ${order.status}`);
      // Marked first (a second refund racing this one finds it refunded), then the stock goes back.
      const changed = db.prepare("update orders set status = 'refunded' where id = ? and status = 'placed'").run(order.id);
      if (Number(changed.changes) !== 1) throw problems.conflict(`Order ${order.id} is already refunded`);
      try {
        await catalog.restock(order.items.map(({ bookId, quantity }) => ({ bookId, quantity })));
      } catch (error) {
        db.prepare("update orders set status = 'placed' where id = ?").run(order.id);
        throw error;
      }
      sendJson(res, 200, { ...order, status: 'refunded' });
    }],
  ]);
}
