/** Lock-file paths of the packages the given runtime dependencies need (see standalone.mjs). */
export function runtimeClosure(lock: { packages?: Record<string, unknown> }, rootDeps: Record<string, string>): string[];
