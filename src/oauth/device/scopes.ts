/**
 * What the device confirmation page says a requested scope lets the device do: the same words as
 * the consent page (resources.ts `scopeDescriptions`: built-ins, then each resource's
 * `descriptions`), with the scope itself beside them.
 */
export interface ScopeLine {
  text: string;
  scope: string;
}

export function describeScopes(scope: string, descriptions: ReadonlyMap<string, string>): ScopeLine[] {
  const names = [...new Set(scope.split(' ').filter((name) => name !== ''))];
  const lines = names.map((name) => ({ scope: name, text: descriptions.get(name) ?? `Use the permission “${name}”` }));
  if (lines.length === 0) lines.push({ scope: 'openid', text: 'Confirm your identity' });
  return lines;
}
