/**
 * A memo of at most `max` values that cost something to make, keyed by what they are made from:
 * a miss makes the value and keeps it; when the memo is full the value kept longest goes first.
 * Insertion order, not use: the keys are few and recur (a store's statements, a CA's key types
 * and identities), so a miss is rare and tracking recency would cost every hit.
 */
export interface BoundedMemo<K, V> {
  /** The value kept for `key`, or `make()`'s, kept from now on. */
  get(key: K, make: () => V): V;
  clear(): void;
  readonly size: number;
}

export function boundedMemo<K, V>(max: number): BoundedMemo<K, V> {
  if (!Number.isInteger(max) || max < 1) throw new TypeError(`boundedMemo: max must be a positive integer, received ${max}`);
  const values = new Map<K, V>();
  return {
    get(key, make) {
      let value = values.get(key);
      if (value === undefined && !values.has(key)) {
        value = make();
        if (values.size >= max) values.delete(values.keys().next().value!);
        values.set(key, value);
      }
      return value!;
    },
    clear: () => values.clear(),
    get size() {
      return values.size;
    },
  };
}
