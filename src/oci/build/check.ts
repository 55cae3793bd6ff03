import type { ConfigIssue } from '../../config/validate.js';
import type { RelsignConfig } from '../../config/types.js';
import { parseReference } from '../reference.js';
import { KNOWN_PLATFORMS, parsePlatform } from './platform.js';

/** `images:` rules the schema cannot express, checked by `relsign check` and before a release starts. */
export function imageIssues(raw: Record<string, any>, config: RelsignConfig): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  config.images.forEach((img, i) => {
    const r = (Array.isArray(raw.images) ? raw.images[i] : undefined) ?? {};
    if (r.repository !== undefined && r.repositories !== undefined) {
      issues.push({ path: ['images', i, 'repositories'], message: 'set repository or repositories, not both' });
    } else if (img.repositories.length === 0) {
      issues.push({ path: ['images', i], message: 'set repository (where the image is pushed, e.g. ghcr.io/owner/app)' });
    }
    if (img.base !== 'scratch') {
      try {
        parseReference(img.base);
      } catch (err) {
        issues.push({ path: ['images', i, 'base'], message: `${(err as Error).message} (or use scratch)` });
      }
    }
    const seen = new Map<string, number>();
    img.platforms.forEach((p, j) => {
      const parsed = parsePlatform(p);
      if (!parsed) {
        issues.push({ path: ['images', i, 'platforms', j], message: `unknown platform ${JSON.stringify(p)}; known: ${KNOWN_PLATFORMS.join(', ')}` });
        return;
      }
      const first = seen.get(p);
      if (first !== undefined) issues.push({ path: ['images', i, 'platforms', j], message: `${p} is already listed at platforms[${first}]` });
      else seen.set(p, j);
    });
    if (!img.binary_dir.startsWith('/')) {
      issues.push({ path: ['images', i, 'binary_dir'], message: `${JSON.stringify(img.binary_dir)} must be an absolute path in the image` });
    }
  });
  return issues;
}
