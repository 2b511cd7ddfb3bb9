/**
 * Validation at the edge: parse with a zod schema, or throw `validation_failed` (422) whose
 * `errors` extension lists each field path and what was expected (docs/errors.md).
 */
import type { z } from 'zod';
import { GatehouseError } from './errors.ts';

export interface FieldError {
  /** Dotted path of the field (`email`, `redirectUris.0`); empty for the body as a whole. */
  path: string;
  message: string;
}

export function fieldErrors(error: z.ZodError): FieldError[] {
  return error.issues.map((issue) => ({ path: issue.path.map(String).join('.'), message: issue.message }));
}

export function validationFailed(errors: FieldError[], description = 'The request failed validation'): GatehouseError {
  const summary = errors.map((e) => (e.path ? `${e.path}: ${e.message}` : e.message)).join('; ');
  return new GatehouseError('validation_failed', `${description}: ${summary}`, { extensions: { errors } });
}

/** Parses `value` with `schema`; throws `validation_failed` listing every failing field. */
export function parseInput<S extends z.ZodType>(schema: S, value: unknown, description?: string): z.output<S> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  throw validationFailed(fieldErrors(result.error), description);
}
