export { openStore, isStoreUnavailable, storeUnavailable, isUniqueViolation, redactUrl, type Store, type StoreOptions, type Dialect, type Executor } from './db.ts';
export type * from './schema.ts';
