/**
 * The catalog service: books and their stock.
 *
 *   GET    /api/books            public (the gateway forwards no token)
 *   GET    /api/books/:id        public
 *   POST   /api/books            catalog:write (staff, admin)
 *   PUT    /api/books/:id        catalog:write
 *   DELETE /api/books/:id        catalog:write
 *   POST   /internal/reservations   catalog:reserve — the orders service only (mTLS + its own token)
 *   POST   /internal/restocks       catalog:reserve — the orders service only (after a refund)
 *
 * The gateway already enforced the route rules; the service checks the permission again with the
 * SDK (`identity.can`), so a request that reached it some other way gains nothing.
 */
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import type { DatabaseSync } from 'node:sqlite';
import { problems, readJson, requirePermission, router, sendJson, type RequestContext } from './http.ts';
import { transaction } from './database.ts';

export interface Book {
  id: string;
  title: string;
  author: string;
  price: number;
  stock: number;
}

const bookInput = z.object({
  title: z.string().trim().min(1).max(200),
  author: z.string().trim().min(1).max(200),
  price: z.number().positive().max(10_000).multipleOf(0.01),
  stock: z.number().int().min(0).max(1_000_000),
}).strict();

export const itemsInput = z.object({
  items: z.array(z.object({ bookId: z.string().min(1).max(64), quantity: z.number().int().min(1).max(100) }).strict()).min(1).max(50),
}).strict();

const FIRST_BOOKS: Array<Omit<Book, 'id'>> = [
  { title: 'The Left Hand of Darkness', author: 'Ursula K. Le Guin', price: 12.5, stock: 20 },
  { title: 'A Wizard of Earthsea', author: 'Ursula K. Le Guin', price: 9.99, stock: 15 },
  { title: 'Kindred', author: 'Octavia E. Butler', price: 11, stock: 10 },
  { title: 'Piranesi', author: 'Susanna Clarke', price: 14.2, stock: 8 },
  { title: 'The Dispossessed', author: 'Ursula K. Le Guin', price: 13, stock: 5 },
];

export function migrateCatalog(db: DatabaseSync): void {
  db.exec('create table if not exists books (id text primary key, title text not null, author text not null, price_cents integer not null, stock integer not null check (stock >= 0))');
  const { count } = db.prepare('select count(*) as count from books').get() as { count: number };
  if (count > 0) return;
  const insert = db.prepare('insert into books (id, title, author, price_cents, stock) values (?, ?, ?, ?, ?)');
  FIRST_BOOKS.forEach((book, i) => insert.run(String(i + 1), book.title, book.author, Math.round(book.price * 100), book.stock));
}

const toBook = (row: Record<string, unknown>): Book => ({
  id: String(row.id), title: String(row.title), author: String(row.author), price: Number(row.price_cents) / 100, stock: Number(row.stock),
});

export function catalogRoutes(db: DatabaseSync) {
  const find = (id: string) => {
    const row = db.prepare('select * from books where id = ?').get(id) as Record<string, unknown> | undefined;
    if (!row) throw problems.notFound(`Book ${id}`);
    return toBook(row);
  };

  return router([
    ['GET', '/api/books', ({ res }) => sendJson(res, 200, { books: (db.prepare('select * from books order by title').all() as Array<Record<string, unknown>>).map(toBook) })],
    ['GET', '/api/books/:id', ({ res, params }) => sendJson(res, 200, find(params.id!))],
    ['POST', '/api/books', async ({ req, res, identity }: RequestContext) => {
      requirePermission(identity, 'catalog:write');
      const input = await readJson(req, bookInput);
      const id = randomUUID();
      db.prepare('insert into books (id, title, author, price_cents, stock) values (?, ?, ?, ?, ?)').run(id, input.title, input.author, Math.round(input.price * 100), input.stock);
      sendJson(res, 201, find(id), { location: `/api/books/${id}` });
    }],
    ['PUT', '/api/books/:id', async ({ req, res, params, identity }) => {
      requirePermission(identity, 'catalog:write');
      const input = await readJson(req, bookInput);
      find(params.id!);
      db.prepare('update books set title = ?, author = ?, price_cents = ?, stock = ? where id = ?').run(input.title, input.author, Math.round(input.price * 100), input.stock, params.id!);
      sendJson(res, 200, find(params.id!));
    }],
    ['DELETE', '/api/books/:id', ({ res, params, identity }) => {
      requirePermission(identity, 'catalog:write');
      find(params.id!);
      db.prepare('delete from books where id = ?').run(params.id!);
      res.writeHead(204).end();
    }],
    ['POST', '/internal/reservations', async ({ req, res, identity }) => {
      requirePermission(identity, 'catalog:reserve');
      const { items } = await readJson(req, itemsInput);
      // All or nothing: one transaction checks and takes the stock of every line.
      const lines = transaction(db, () => items.map(({ bookId, quantity }) => {
        const book = find(bookId);
        if (book.stock < quantity) throw problems.conflict(`Only ${book.stock} of "${book.title}" left`);
        db.prepare('update books set stock = stock - ? where id = ?').run(quantity, bookId);
        return { bookId, title: book.title, quantity, price: book.price };
      }));
      sendJson(res, 201, { items: lines });
    }],
    ['POST', '/internal/restocks', async ({ req, res, identity }) => {
      requirePermission(identity, 'catalog:reserve');
      const { items } = await readJson(req, itemsInput);
      transaction(db, () => { for (const { bookId, quantity } of items) db.prepare('update books set stock = stock + ? where id = ?').run(quantity, bookId); });
      res.writeHead(204).end();
    }],
  ]);
}
