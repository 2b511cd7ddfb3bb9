#!/usr/bin/env node
// Gatehouse is TypeScript run directly by Node 24 (type stripping).
const [major, minor] = process.versions.node.split('.').map(Number);
if (major < 24 || (major === 24 && minor < 7)) {
  console.error(`gatehouse: needs Node.js 24.7 or later (this is ${process.version}); run it through npm (npm run gatehouse -- …) or npx, which use the bundled node@24`);
  process.exit(1);
}
await import('../src/cli/main.ts');
