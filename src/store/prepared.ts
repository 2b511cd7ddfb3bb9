/**
 * Statements Kysely builds and compiles once, then runs with each call's values. A query builder
 * builds an operation tree and compiles it to SQL on every execution: on the CA's issuance path
 * that cost more than SQLite took to run the statements (key check, certificate row and audit
 * entry with their transaction: 0.33 ms of CPU through builders, 0.20 ms compiled; bench/pki.ts).
 * The few statements a hot path runs are therefore built once per store with placeholders where
 * the values go, and executed as compiled queries. The SQL is still Kysely's, for the store's own
 * dialect (`?` on SQLite, `$1` on PostgreSQL), and still type-checked against the schema where it
 * is built.
 */
import { CompiledQuery, type Compilable } from 'kysely';
import type { Executor } from './db.ts';

/** Stands for the parameter `name` while a statement is compiled; swapped for its value on each run. */
class Placeholder {
  readonly name: string;
  constructor(name: string) {
    this.name = name;
  }
}

/** A compiled statement: runs on the store or inside a transaction, returns the rows. */
export type PreparedStatement<P, R> = (executor: Executor, params: P) => Promise<R[]>;

/**
 * Compiles `build`'s query once. `build` receives the parameters as placeholders (`params.x`
 * stands for each run's `params.x`); values written into the query itself stay constant. A
 * placeholder is one opaque value: `build` must not branch on a parameter, spread it (write each
 * column of an insert out) or pass it where Kysely needs a list (`in`). An undefined value binds
 * as NULL. Compile with the store's `db`: a statement runs only on executors of that store.
 */
export function prepared<P extends object, R>(db: Executor, build: (db: Executor, params: P) => Compilable<R>): PreparedStatement<P, R> {
  // Any property read yields a placeholder of that name: the parameters need no separate list.
  const placeholders = new Proxy({}, { get: (_target, name) => new Placeholder(String(name)) }) as P;
  const { sql, parameters } = build(db, placeholders).compile();
  // Per parameter of the compiled SQL: where its value comes from on each run.
  const slots = parameters.map((value): ((params: P) => unknown) => {
    if (!(value instanceof Placeholder)) return () => value;
    const name = value.name as keyof P;
    return (params) => params[name];
  });
  return async (executor, params) => {
    const result = await executor.executeQuery<R>(CompiledQuery.raw(sql, slots.map((slot) => slot(params))));
    return result.rows;
  };
}
