/**
 * CA rotation in phases (smallstep-like), each one transaction:
 * - prepare: a new root and an intermediate under it, both `next`. The bundle now lists both
 *   roots, so workloads (which reload it every few seconds) trust the new chain before anything
 *   is signed by it. Nothing is issued from it yet.
 * - activate: next → active, the old root and intermediate → retired. New leaves come from the
 *   new intermediate; retired CAs stay trusted (bundle, CRLs, keys online to sign their CRLs)
 *   until every leaf under them has expired, then `pruneRetired` drops them.
 * - intermediate: a new intermediate under the active root (its key must be online), active at
 *   once (workloads already trust the root); the old intermediate is retired.
 */
import { GatehouseError } from '../shared/errors.ts';
import type { Executor } from '../store/index.ts';
import { generateAuthority, generateIntermediate, type Authority, type AuthorityDeps } from './authority.ts';
import { caCertificateOfStatus, dropCa, latestLeafExpiry, setCaStatus } from './repository.ts';

export type RotationPhase = 'prepare' | 'activate' | 'intermediate';

export interface RotationResult {
  phase: RotationPhase;
  /** CA ids that became next (prepare) or active (activate, intermediate). */
  created: string[];
  activated: string[];
  retired: string[];
}

/** A retired CA is never dropped sooner than this after retirement (a process that had not seen the rotation yet may still have signed with it). */
export const RETIRED_GRACE_SECONDS = 120;

export async function rotate(deps: AuthorityDeps, current: Authority, phase: RotationPhase): Promise<RotationResult> {
  const db = deps.db;
  const now = Math.floor(deps.now() / 1000);
  const nextRoot = await caCertificateOfStatus(db, 'root', 'next');
  const nextIntermediate = await caCertificateOfStatus(db, 'intermediate', 'next');
  if (phase === 'prepare') {
    if (nextRoot || nextIntermediate) throw new GatehouseError('conflict', 'A CA rotation is already prepared: run `gatehouse ca rotate --activate`');
    const ids = await generateAuthority(deps, 'next');
    return { phase, created: [ids.rootId, ids.intermediateId], activated: [], retired: [] };
  }
  if (phase === 'activate') {
    if (!nextRoot || !nextIntermediate) throw new GatehouseError('conflict', 'No CA rotation is prepared: run `gatehouse ca rotate --prepare` first');
    // Retire first: the database allows one active CA per kind.
    await setCaStatus(db, current.intermediate.id, 'retired', now);
    await setCaStatus(db, current.root.id, 'retired', now);
    await setCaStatus(db, nextRoot.id, 'active', now);
    await setCaStatus(db, nextIntermediate.id, 'active', now);
    return { phase, created: [], activated: [nextRoot.id, nextIntermediate.id], retired: [current.root.id, current.intermediate.id] };
  }
  if (nextRoot || nextIntermediate) throw new GatehouseError('conflict', 'A root rotation is prepared: finish it with `gatehouse ca rotate --activate` first');
  // The new intermediate is stored as next, then swapped in (one active per kind).
  const id = await generateIntermediate(deps, current.root, 'next');
  await setCaStatus(db, current.intermediate.id, 'retired', now);
  await setCaStatus(db, id, 'active', now);
  return { phase, created: [id], activated: [id], retired: [current.intermediate.id] };
}

/**
 * Drops retired CAs nobody can need any more: an intermediate once every leaf it signed has
 * expired, a root once none of its intermediates is trusted. Returns the dropped ids.
 */
export async function pruneRetired(db: Executor, authority: Authority, now: number): Promise<string[]> {
  const dropped: string[] = [];
  const old = (retiredAt: number | undefined) => retiredAt !== undefined && retiredAt + RETIRED_GRACE_SECONDS <= now;
  const retiredAt = async (id: string) => {
    const row = await db.selectFrom('ca_certificates').select('retired_at').where('id', '=', id).executeTakeFirst();
    return row?.retired_at == null ? undefined : Number(row.retired_at);
  };
  for (const ca of authority.trusted) {
    if (ca.kind !== 'intermediate' || ca.status !== 'retired') continue;
    if (!old(await retiredAt(ca.id)) || (await latestLeafExpiry(db, ca.id)) > now) continue;
    await dropCa(db, ca.id, now);
    dropped.push(ca.id);
  }
  for (const ca of authority.trusted) {
    if (ca.kind !== 'root' || ca.status !== 'retired') continue;
    const children = authority.trusted.filter((c) => c.kind === 'intermediate' && c.parentId === ca.id && !dropped.includes(c.id));
    if (children.length > 0 || !old(await retiredAt(ca.id))) continue;
    await dropCa(db, ca.id, now);
    dropped.push(ca.id);
  }
  return dropped;
}
