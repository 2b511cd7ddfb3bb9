/**
 * What the device confirmation page says a requested scope lets the device do. OpenID scopes in
 * words; a permission scope (`orders:read`) as its action and resource ("read orders"), always
 * bounded by what the user's own account may do.
 */
const OPENID: Record<string, string> = {
  openid: 'Know who you are (your user id)',
  profile: 'See your username',
  email: 'See your email address',
  roles: 'See your roles',
  offline_access: 'Stay signed in on the device until you sign out or disconnect it',
};

export function describeScopes(scope: string): string[] {
  const lines: string[] = [];
  for (const name of scope.split(' ').filter(Boolean)) {
    const known = OPENID[name];
    if (known !== undefined) {
      lines.push(known);
      continue;
    }
    const [resource, action, qualifier] = name.split(':');
    const words = action && action !== '*' ? `${action} ${resource}` : `do anything with ${resource}`;
    lines.push(`${words[0]!.toUpperCase()}${words.slice(1)}${qualifier === 'own' ? ' (your own only)' : ''} — ${name}, within what your account may do`);
  }
  if (lines.length === 0) lines.push('Confirm your identity');
  return lines;
}
