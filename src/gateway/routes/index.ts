/** The gateway's route table: rules compiled once into a matcher, loaded from config and a routes file, reloaded live. */
export { compileRoutes, type RouteInput } from './compile.ts';
export { RESERVED_PATHS } from './pattern.ts';
export { RouteLoadError, type CompiledRoute, type RouteConfig, type RouteMatch, type RouteTable } from './types.ts';
export { loadRouteTable, routeSources, routesFilePath } from './load.ts';
export { watchRoutes, type WatchRoutesOptions } from './watch.ts';
