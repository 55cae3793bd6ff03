import { imageIssues } from '../oci/build/check.js';
import { unusableKeyRef } from '../stages/sign/builtin.js';
import { cosignArgsProblem, isCosignCommand } from '../sigstore/cosign-args.js';
import { SIGN_SELECTIONS } from '../stages/sign/select.js';
import { templateIssues } from './templates.js';
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
  issues.push(...templateIssues(raw));
  issues.push(...signIssues(config));
  config.signs.forEach((cfg, i) => issues.push(...publicKeyIssues(i, cfg)));
  config.docker_signs.forEach((cfg, i) => issues.push(...keylessIssues('docker_signs', i, cfg)));
  issues.push(...cosignArgIssues(config));
  issues.push(...imageIssues(raw, config));
  return issues;
}

/** keyless entries: no key, the log upload is not optional, no cmd. */
export function keylessIssues(section: string, i: number, cfg: RelsignConfig['signs'][number]): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  if (cfg.signer !== 'keyless') {
    if (cfg.signer === 'cmd') {
      for (const f of ['tlog_upload', 'fulcio_url', 'rekor_url', 'tsa_url', 'timeout'] as const) {
        if (cfg[f] !== undefined) issues.push({ path: [section, i, f], message: `${f} applies to signer: builtin or keyless, not cmd` });
      }
    } else if (cfg.fulcio_url !== undefined) {
      issues.push({ path: [section, i, 'fulcio_url'], message: 'fulcio_url applies to signer: keyless only' });
    }
    return issues;
  }
  if (cfg.key !== undefined) issues.push({ path: [section, i, 'key'], message: 'key has no effect with signer: keyless (the key is ephemeral); remove it or use signer: builtin' });
  if (cfg.cmd !== undefined) issues.push({ path: [section, i, 'cmd'], message: 'cmd has no effect with signer: keyless; remove one of them' });
  if (cfg.tlog_upload === false) {
    issues.push({ path: [section, i, 'tlog_upload'], message: 'signer: keyless always records signatures in the transparency log; tlog_upload: false needs signer: builtin' });
  }
  return issues;
}

/** signs[].public_key checks key signatures: a keyless or external signer has none relsign can check with it. */
function publicKeyIssues(i: number, cfg: RelsignConfig['signs'][number]): ConfigIssue[] {
  if (cfg.public_key === undefined) return [];
  if (cfg.signer === 'keyless') {
    return [{ path: ['signs', i, 'public_key'], message: 'public_key has no effect with signer: keyless (its signatures are checked against the run\'s identity); remove it' }];
  }
  if (cfg.signer === 'cmd' && !isCosignCommand(cfg.cmd)) {
    return [{ path: ['signs', i, 'public_key'], message: `public_key applies to signer: builtin or cmd: cosign, not ${cfg.cmd ?? 'cmd'} (relsign cannot verify its signatures)` }];
  }
  return [];
}

/** `$<artifact>`, `${artifact}` and `$artifact` mean the same: compare templates in one spelling. */
function normalizeVars(t: string): string {
  return t.replace(/\$(?:<(\w+)>|\{(\w+)\}|(\w+))/g, (_, a, b, c) => `$<${a ?? b ?? c}>`);
}

/**
 * `cosign: builtin` entries always run in-process, so their args must parse and
 * use only flags relsign implements. (With `auto`, this depends on PATH: the
 * release's preflight checks it.)
 */
function cosignArgIssues(config: RelsignConfig): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  for (const section of ['signs', 'docker_signs'] as const) {
    config[section].forEach((cfg, i) => {
      if (cfg.signer !== 'cmd' || cfg.cosign !== 'builtin') return;
      if (!isCosignCommand(cfg.cmd)) {
        issues.push({ path: [section, i, 'cosign'], message: `cosign: builtin needs cmd: cosign (cmd is ${JSON.stringify(cfg.cmd ?? '')})` });
        return;
      }
      const problem = cosignArgsProblem(cfg.args);
      if (problem) issues.push({ path: [section, i, 'args'], message: problem });
    });
  }
  return issues;
}

function signIssues(config: RelsignConfig): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  const entries = config.signs;
  entries.forEach((cfg, i) => {
    if (cfg.signer === 'builtin' && !cfg.key) {
      issues.push({ path: ['signs', i], message: 'signer: builtin needs key: (a path or env://VAR)' });
    }
    const unusable = cfg.signer === 'builtin' && cfg.key && !cfg.key.includes('{{') ? unusableKeyRef(cfg.key.trim()) : undefined;
    if (unusable) issues.push({ path: ['signs', i, 'key'], message: unusable });
    if (cfg.signer === 'builtin' && cfg.cmd) {
      issues.push({ path: ['signs', i, 'cmd'], message: 'cmd has no effect with signer: builtin; remove one of them' });
    }
    issues.push(...keylessIssues('signs', i, cfg));
    const mine = SIGN_SELECTIONS[cfg.artifacts ?? 'none'] ?? [];
    for (let j = 0; j < i; j++) {
      const other = entries[j]!;
      const theirs = SIGN_SELECTIONS[other.artifacts ?? 'none'] ?? [];
      const shared = mine.filter((t) => theirs.includes(t));
      if (shared.length === 0) continue;
      const idsOverlap = cfg.ids.length === 0 || other.ids.length === 0 || cfg.ids.some((x) => other.ids.includes(x));
      if (!idsOverlap) continue;
      for (const field of ['signature', 'certificate', 'bundle'] as const) {
        const a = cfg[field];
        const b = other[field];
        if (a && b && normalizeVars(a) === normalizeVars(b)) {
          issues.push({
            path: ['signs', i, field],
            message: `${JSON.stringify(a)} gives the same file names as signs[${j}].${field} for ${shared.join(', ')} artifacts; make them differ`,
          });
        }
      }
    }
  });
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

