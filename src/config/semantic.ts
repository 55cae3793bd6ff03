import type { ConfigIssue } from './validate.js';
import type { RelsignConfig } from './types.js';

/**
 * Rules JSON Schema cannot express, checked by `relsign check` and before any
 * release work starts (so a typo never surfaces half-way through a release).
 */
export function semanticIssues(raw: Record<string, any>, config: RelsignConfig): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  for (const section of ['builds', 'archives', 'images', 'signs', 'docker_signs'] as const) {
    issues.push(...duplicateIds(section, config[section] as Array<{ id: string }>, raw[section]));
  }
  return issues;
}

function duplicateIds(section: string, entries: Array<{ id: string }>, rawEntries: unknown): ConfigIssue[] {
  const seen = new Map<string, number>();
  const issues: ConfigIssue[] = [];
  entries.forEach((e, i) => {
    const first = seen.get(e.id);
    if (first === undefined) {
      seen.set(e.id, i);
      return;
    }
    const explicit = Array.isArray(rawEntries) && (rawEntries[i] as { id?: string } | undefined)?.id !== undefined;
    issues.push({
      path: explicit ? [section, i, 'id'] : [section, i],
      message: `id "${e.id}" is already used by ${section}[${first}]${explicit ? '' : ' (the default id); give each entry its own id'}`,
    });
  });
  return issues;
}

