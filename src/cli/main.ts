/**
 * `gatehouse`'s entry. `serve gateway` executes itself again with a V8 flag first (./relaunch.ts),
 * before the command line's modules load; then ./gatehouse.ts assembles the commands and runs one.
 */
import { relaunchGatewayWithoutMemoryReducer } from './relaunch.ts';

relaunchGatewayWithoutMemoryReducer();
await import('./gatehouse.ts');
