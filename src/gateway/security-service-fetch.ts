/**
 * The fetch the gateway's verifier and token source use to reach the Security Service, counted
 * by what it fetched (`gatehouse_gateway_security_service_requests_total{kind}`): a JWKS fetch
 * per request would show here at once.
 */
import { Counter } from 'prom-client';
import type { GatewayMetrics } from './metrics.ts';

type Kind = 'discovery' | 'jwks' | 'policy' | 'events' | 'token' | 'other';

function kindOf(pathname: string): Kind {
  if (pathname.endsWith('/.well-known/openid-configuration')) return 'discovery';
  if (pathname.includes('jwks')) return 'jwks';
  if (pathname.endsWith('/policy')) return 'policy';
  if (pathname.includes('/events/')) return 'events';
  if (pathname.endsWith('/token')) return 'token';
  return 'other';
}

export function countingFetch(metrics: GatewayMetrics, base: typeof fetch = globalThis.fetch): typeof fetch {
  const requests = new Counter({ name: 'gatehouse_gateway_security_service_requests_total', help: 'Requests from the gateway to the Security Service, by kind (discovery, jwks, policy, events, token)', labelNames: ['kind', 'outcome'], registers: [metrics.registry] });
  const counted = async (input: Parameters<typeof fetch>[0], init?: RequestInit): Promise<Response> => {
    const url = input instanceof Request ? input.url : String(input);
    const kind = kindOf(new URL(url).pathname);
    try {
      const response = await base(input, init);
      requests.labels(kind, String(response.status)).inc();
      return response;
    } catch (error) {
      requests.labels(kind, 'error').inc();
      throw error;
    }
  };
  return counted as typeof fetch;
}
