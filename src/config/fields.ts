/**
 * Field types the configuration sections share: durations, permission names, role names, CIDR blocks.
 */
import { z } from 'zod';
import { parseDuration } from '../shared/clock.ts';
import { cidrProblem } from '../shared/client-address.ts';

/** A duration written as `30s`, `10m`, `1h`, `14d` (or a number of seconds); parsed to seconds. */
export const duration = (description: string) =>
  z
    .union([z.number().int().positive(), z.string().regex(/^\d+(ms|s|m|h|d)$/, 'a duration like 30s, 10m, 1h or 14d')])
    .transform((value) => (typeof value === 'number' ? value : Math.max(1, Math.round(parseDuration(value) / 1000))))
    .describe(description);

export const permission = z
  .string()
  .regex(/^(\*|[a-z][a-z0-9_-]*(:(\*|[a-z][a-z0-9_-]*))*)$/, 'a permission like orders:read, orders:read:own or orders:*');

export const roleName = z.string().regex(/^[a-z][a-z0-9_-]{0,63}$/, 'a role name: lower-case letters, digits, - and _');


/** An IPv4/IPv6 address or CIDR block (`10.0.0.0/8`, `::1/128`), checked as ../shared/client-address.ts compiles it. */
export const cidr = z.string().superRefine((value, ctx) => {
  const problem = cidrProblem(value);
  if (problem !== undefined) ctx.addIssue({ code: 'custom', message: problem });
});
