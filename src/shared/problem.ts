import { errorCatalogue, type ErrorCode, type GatehouseError } from './errors.ts';

/** RFC 9457 problem details document. */
export interface ProblemDocument {
  type: string;
  title: string;
  status: number;
  detail?: string;
  instance?: string;
  code: ErrorCode;
  [extension: string]: unknown;
}

export const PROBLEM_CONTENT_TYPE = 'application/problem+json';

/** A stable, documented URI per code: docs/errors.md has an anchor for each. */
export function problemType(code: ErrorCode): string {
  return `urn:gatehouse:error:${code}`;
}

export function toProblem(error: GatehouseError, instance?: string): ProblemDocument {
  const doc: ProblemDocument = {
    type: problemType(error.code),
    title: errorCatalogue[error.code].title,
    status: error.status,
    code: error.code,
  };
  if (error.description !== doc.title) doc.detail = error.description;
  if (instance !== undefined) doc.instance = instance;
  if (error.extensions) {
    for (const [key, value] of Object.entries(error.extensions)) {
      if (!(key in doc)) doc[key] = value;
    }
  }
  return doc;
}
