/**
 * Validation at the edge: parse with a zod schema, or throw `validation_failed` (422) whose
 * `errors` extension lists each field path and what was expected (docs/errors.md). Messages are
 * written for people — "must be one of: a, b, received "c"" rather than zod's defaults — while a
 * message a schema sets itself always wins.
 */
import type { z } from 'zod';
import { GatehouseError } from './errors.ts';

export interface FieldError {
  /** Dotted path of the field (`email`, `redirectUris.0`); empty for the body as a whole. */
  path: string;
  message: string;
}

/** How a received value reads in a message: short, and never the whole of a long input. */
function received(input: unknown): string {
  if (input === undefined) return 'nothing';
  if (input === null) return 'null';
  if (Array.isArray(input)) return 'a list';
  if (typeof input === 'object') return 'a mapping';
  const text = typeof input === 'string' ? JSON.stringify(input.length > 40 ? `${input.slice(0, 40)}…` : input) : String(input);
  return text;
}

const KINDS: Record<string, string> = { number: 'a number', int: 'a whole number', string: 'text', boolean: 'true or false', array: 'a list', object: 'a mapping of keys' };

/**
 * The message for a zod issue no schema worded itself (pass as `{ error: issueMessage }` to a
 * parse); undefined keeps zod's own. Says what was expected and what was received.
 */
export function issueMessage(issue: z.core.$ZodRawIssue): string | undefined {
  switch (issue.code) {
    case 'invalid_value': {
      const values = issue.values.map(String);
      return `${values.length === 1 ? `must be ${values[0]}` : `must be one of: ${values.join(', ')}`}, received ${received(issue.input)}`;
    }
    case 'invalid_type':
      if (issue.input === undefined) return 'is required';
      return `must be ${KINDS[issue.expected] ?? issue.expected}, received ${received(issue.input)}`;
    case 'too_small':
    case 'too_big': {
      const bound = Number(issue.code === 'too_small' ? issue.minimum : issue.maximum);
      const side = issue.code === 'too_small' ? (issue.inclusive === false ? 'more than' : 'at least') : (issue.inclusive === false ? 'less than' : 'at most');
      if (issue.origin === 'string') return issue.code === 'too_small' && bound === 1 ? 'must not be empty' : `must be ${side} ${bound} characters long`;
      if (issue.origin === 'array' || issue.origin === 'set') return `must have ${side} ${bound} ${bound === 1 ? 'entry' : 'entries'}`;
      if (issue.origin === 'number' || issue.origin === 'int' || issue.origin === 'bigint') return `must be ${side} ${bound}, received ${received(issue.input)}`;
      return undefined;
    }
    case 'invalid_format':
      if (issue.format === 'email') return `must be an email address, received ${received(issue.input)}`;
      if (issue.format === 'url') return `must be a URL like https://example.com, received ${received(issue.input)}`;
      return `has an invalid format, received ${received(issue.input)}`;
    case 'unrecognized_keys':
      return `unknown key${issue.keys.length === 1 ? '' : 's'}: ${issue.keys.join(', ')}`;
    default:
      return undefined;
  }
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
  const result = schema.safeParse(value, { error: issueMessage });
  if (result.success) return result.data;
  throw validationFailed(fieldErrors(result.error), description);
}
