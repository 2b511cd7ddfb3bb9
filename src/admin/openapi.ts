/**
 * The OpenAPI 3.1 document of the admin API, generated from the route table and the same zod
 * schemas the routes validate with (no hand-written copy). Named schemas (`.meta({ id })`) land in
 * components.schemas and are referenced.
 */
import { z } from 'zod';
import { adminRoutes, type AdminRoute } from './routes.ts';
import { problemSchema } from './schemas.ts';

export const ADMIN_PREFIX = '/admin/api';

type JsonSchema = Record<string, unknown>;

const PROBLEM = { $ref: '#/components/schemas/Problem' };
const problem = (description: string) => ({ description, content: { 'application/problem+json': { schema: PROBLEM } } });

function parameters(route: AdminRoute, convert: (schema: z.ZodType) => JsonSchema) {
  if (!route.params) return [];
  return Object.entries(route.params.shape).map(([name, schema]) => ({
    name,
    in: 'path',
    required: true,
    schema: convert(schema as z.ZodType),
    ...((schema as z.ZodType).description ? { description: (schema as z.ZodType).description } : {}),
  }));
}

export function buildOpenApiDocument(options: { serverUrl: string; version: string }): Record<string, unknown> {
  const components: Record<string, JsonSchema> = {};
  // One conversion per schema; named ones are collected into components and referenced.
  const convert = (io: 'input' | 'output') => (schema: z.ZodType): JsonSchema => {
    const generated = JSON.stringify(z.toJSONSchema(schema, { io, target: 'draft-2020-12' }));
    // Definitions move from the schema's own $defs to the document's components.
    const { $schema: _ignored, $defs, ...rest } = JSON.parse(generated.replaceAll('"#/$defs/', '"#/components/schemas/')) as JsonSchema & { $defs?: Record<string, JsonSchema> };
    for (const [name, def] of Object.entries($defs ?? {})) components[name] = def;
    const id = z.globalRegistry.get(schema)?.id;
    if (typeof id === 'string') {
      if (!$defs?.[id]) components[id] = rest;
      return { $ref: `#/components/schemas/${id}` };
    }
    return rest;
  };

  const paths: Record<string, Record<string, unknown>> = {};
  for (const route of adminRoutes) {
    const path = ADMIN_PREFIX + route.path.replace(/:([A-Za-z]+)/g, '{$1}');
    const responses: Record<string, unknown> = {
      [route.status]: route.response
        ? { description: route.summary, content: { 'application/json': { schema: convert('output')(route.response) } } }
        : { description: route.summary },
      400: problem('Malformed request (e.g. invalid JSON)'),
      401: problem('No valid bearer access token (WWW-Authenticate: Bearer)'),
      403: problem('The access token does not carry the admin role'),
    };
    if (route.params) responses[404] = problem('No such user, client or API token');
    if (route.body) {
      responses[413] = problem('Body larger than http.bodyLimit');
      responses[415] = problem('Content-Type is not application/json');
    }
    if (route.body || route.params) responses[422] = problem('Validation failed; `errors` lists each field');
    if (route.method === 'POST' && route.status === 201) responses[409] = problem('Already exists');
    if (route.conflict) responses[409] = problem(route.conflict);
    paths[path] ??= {};
    paths[path]![route.method.toLowerCase()] = {
      summary: route.summary,
      tags: [route.tag],
      operationId: operationId(route),
      parameters: parameters(route, convert('input')),
      ...(route.body ? { requestBody: { required: true, content: { 'application/json': { schema: convert('input')(route.body) } } } } : {}),
      responses,
    };
  }
  convert('output')(problemSchema);

  return {
    openapi: '3.1.0',
    info: {
      title: 'Gatehouse admin API',
      version: options.version,
      description: 'Users, roles, OAuth clients and personal API tokens. Every operation needs a bearer access token (audience = the issuer) whose `roles` claim contains `admin`. Errors are RFC 9457 problem details.',
    },
    servers: [{ url: options.serverUrl }],
    security: [{ bearer: [] }],
    paths,
    components: { schemas: components, securitySchemes: { bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } } },
  };
}

function operationId(route: AdminRoute): string {
  const words = route.path.split(/[/-]/).filter((part) => part && !part.startsWith(':'));
  return [route.method.toLowerCase(), ...words.map((w) => w[0]!.toUpperCase() + w.slice(1))].join('') + (route.path.endsWith('}') || /:[A-Za-z]+$/.test(route.path) ? 'ById' : '');
}
