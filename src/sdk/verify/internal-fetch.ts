/**
 * Where the SDK fetches from. Tokens name the public issuer (`iss`), but a service often reaches
 * the Security Service at an internal address: this wraps `fetch` so that every URL under the
 * issuer (origin + path prefix) goes to `securityService` instead. Other URLs pass unchanged.
 */
export function internalFetch(issuer: string, securityService: string | undefined, base: typeof fetch): typeof fetch {
  const from = withoutSlash(issuer);
  const to = securityService === undefined ? from : withoutSlash(securityService);
  if (to === from) return base;
  const mapped = (input: Parameters<typeof fetch>[0], init?: RequestInit): Promise<Response> => {
    const url = input instanceof Request ? input.url : String(input);
    if (url !== from && !url.startsWith(`${from}/`) && !url.startsWith(`${from}?`)) return base(input, init);
    const target = to + url.slice(from.length);
    return input instanceof Request ? base(new Request(target, input), init) : base(target, init);
  };
  return mapped as typeof fetch;
}

function withoutSlash(url: string): string {
  const parsed = new URL(url);
  return `${parsed.origin}${parsed.pathname.replace(/\/+$/, '')}`;
}

/** `<base>/<path>`, keeping a path prefix of `base`. */
export function under(base: string, path: string): URL {
  return new URL(path, base.endsWith('/') ? base : `${base}/`);
}

/** GET returning JSON, with a timeout; throws on anything but 200 (or `allow304` 304). */
export async function getJson(doFetch: typeof fetch, url: URL | string, headers: Record<string, string> = {}, timeoutMs = 10_000): Promise<{ status: number; body: unknown; headers: Headers }> {
  const response = await doFetch(url, { headers: { accept: 'application/json', ...headers }, signal: AbortSignal.timeout(timeoutMs), redirect: 'error' });
  if (response.status === 304) {
    await response.body?.cancel();
    return { status: 304, body: undefined, headers: response.headers };
  }
  if (response.status !== 200) {
    await response.body?.cancel();
    throw new Error(`GET ${String(url)} answered ${response.status}`);
  }
  return { status: 200, body: await response.json(), headers: response.headers };
}
