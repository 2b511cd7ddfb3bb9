export { openStore, afterCommit, isStoreUnavailable, storeUnavailable, isUniqueViolation, redactUrl, type Store, type StoreOptions, type Dialect, type Executor, type StoreTransaction } from './db.ts';
export type * from './schema.ts';
export { isTokenRevoked } from './issued-tokens.ts';
export { prepared, type PreparedStatement } from './prepared.ts';
export { sealedColumns, caKeyContext, signingKeyContext, resealAll, rekeyStore, type RekeySummary } from './sealed-columns.ts';
