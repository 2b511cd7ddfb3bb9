/**
 * Browser sessions plugged into the gateway's pipeline (the `SessionSupport` seam of
 * ../authenticators.ts): the sign-in paths become gateway-owned paths, the session cookie an
 * authenticator tried after `Authorization: Bearer`, whose token the gateway verifies like any
 * other; a cookie-authenticated state change from another origin is refused (403) there.
 */
import { dirname } from 'node:path';
import { GatehouseError } from '../../shared/errors.ts';
import type { SessionSupport } from '../authenticators.ts';
import { ANSWERED, type Outcome, type Stage } from '../exchange.ts';
import type { SessionContext } from '../index.ts';
import { createBrowserSessions, type BrowserSessions } from './index.ts';
import { loadBrowserSessionSecrets } from './secrets.ts';

/** Adapts `sessions` to the pipeline. */
export function sessionSupport(sessions: BrowserSessions): SessionSupport {
  const owned: Stage = async (exchange): Promise<Outcome> => {
    const { req, res } = exchange;
    // The sign-in paths read no body: one sent anyway (a form POST to /logout) is not drained.
    if (req.headers['content-length'] !== undefined && req.headers['content-length'] !== '0') res.setHeader('connection', 'close');
    if (req.headers['transfer-encoding'] !== undefined) res.setHeader('connection', 'close');
    const query = exchange.query.startsWith('?') ? exchange.query.slice(1) : exchange.query;
    await sessions.handle(req, res, exchange.path, query);
    return ANSWERED;
  };
  return {
    authenticator: {
      name: 'session',
      async credential(exchange) {
        const token = await sessions.accessToken(exchange.req, exchange.res);
        if (token === undefined) return undefined;
        const refused = sessions.crossOrigin(exchange.req);
        return refused === undefined ? token : new GatehouseError('forbidden', refused, { detail: 'cross-origin request with the session cookie' });
      },
    },
    stripCookie: (cookie) => sessions.stripCookie(cookie),
    paths: new Map([['/login', owned], ['/login/callback', owned], ['/logout', owned]]),
    loginRedirect: (exchange) => sessions.loginLocation(`${exchange.path}${exchange.query}`),
    discard: (exchange) => sessions.discard(exchange.req, exchange.res),
    close: () => sessions.close(),
  };
}

/** What createGateway builds when `gateway.sso` is set: secrets from the environment or the files next to the config. */
export function createSessionSupport(context: SessionContext): SessionSupport {
  const { config } = context;
  const baseDir = config.source === 'defaults' ? process.cwd() : dirname(config.source);
  const secrets = loadBrowserSessionSecrets(config, context.env, baseDir);
  return sessionSupport(createBrowserSessions({
    config,
    secrets: { clientSecret: secrets.clientSecret, cookieKey: secrets.cookieKeys },
    logger: context.logger,
    fetch: context.fetch,
    redis: context.redis,
  }));
}
