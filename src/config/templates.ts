import { checkTemplateCalls, fieldsUsed, parseTemplate, TemplateError } from '../template/index.js';
import type { ConfigIssue } from './validate.js';

/**
 * Which config values are templates. `*` matches any array index or map key.
 * Checked at `relsign check` time: syntax, and that every `.Field` exists,
 * so a typo like `{{ .Versoin }}` fails before any work starts.
 */
const TEMPLATE_PATHS: ReadonlyArray<ReadonlyArray<string>> = [
  ['env', '*'],
  ['snapshot', 'version_template'],
  ['before', 'hooks', '*'],
  ['before', 'hooks', '*', 'cmd'],
  ['before', 'hooks', '*', 'cmd', '*'],
  ['before', 'hooks', '*', 'dir'],
  ['before', 'hooks', '*', 'env', '*'],
  ['builds', '*', 'cmd'],
  ['builds', '*', 'cmd', '*'],
  ['builds', '*', 'dir'],
  ['builds', '*', 'env', '*'],
  ['builds', '*', 'binary'],
  ['builds', '*', 'output'],
  ['builds', '*', 'prebuilt'],
  ['builds', '*', 'skip'],
  ['builds', '*', 'hooks', '*', '*'],
  ['builds', '*', 'hooks', '*', '*', 'cmd'],
  ['archives', '*', 'name_template'],
  ['archives', '*', 'wrap_in_directory'],
  ['archives', '*', 'files', '*'],
  ['archives', '*', 'files', '*', 'src'],
  ['archives', '*', 'files', '*', 'dst'],
  ['archives', '*', 'files', '*', 'info', 'mtime'],
  ['source', 'name_template'],
  ['source', 'prefix_template'],
  ['checksum', 'name_template'],
  ['checksum', 'extra_files', '*'],
  ['checksum', 'extra_files', '*', 'glob'],
  ['checksum', 'extra_files', '*', 'name_template'],
  ['images', '*', 'repository'],
  ['images', '*', 'repositories', '*'],
  ['images', '*', 'tags', '*'],
  ['images', '*', 'files', '*', 'src'],
  ['images', '*', 'files', '*', 'dst'],
  ['images', '*', 'entrypoint', '*'],
  ['images', '*', 'cmd', '*'],
  ['images', '*', 'env', '*'],
  ['images', '*', 'workdir'],
  ['images', '*', 'user'],
  ['images', '*', 'labels', '*'],
  ['images', '*', 'annotations', '*'],
  ['images', '*', 'push'],
  ['registries', '*', 'username'],
  ['registries', '*', 'password'],
  ...(['signs', 'docker_signs'] as const).flatMap((s) => [
    [s, '*', 'args', '*'],
    [s, '*', 'signature'],
    [s, '*', 'certificate'],
    [s, '*', 'stdin'],
    [s, '*', 'env', '*'],
    [s, '*', 'output'],
    [s, '*', 'if'],
    [s, '*', 'key'],
    [s, '*', 'password'],
    [s, '*', 'bundle'],
    [s, '*', 'annotations', '*'],
  ]),
  ['release', 'name_template'],
  ['release', 'header'],
  ['release', 'footer'],
  ['release', 'make_latest'],
  ['release', 'skip_upload'],
  ['release', 'disable'],
  ['release', 'target_commitish'],
  ['release', 'extra_files', '*'],
  ['release', 'extra_files', '*', 'glob'],
  ['release', 'extra_files', '*', 'name_template'],
];

/** Every field a template may use (docs/templates.md). `.Env.*` is open-ended. */
export const TEMPLATE_FIELDS = new Set([
  'ProjectName', 'Version', 'RawVersion', 'Tag', 'PreviousTag', 'Major', 'Minor', 'Patch', 'Prerelease',
  'Branch', 'FullCommit', 'Commit', 'ShortCommit', 'CommitDate', 'CommitTimestamp', 'Date', 'Timestamp',
  'Env', 'IsSnapshot', 'IsDraft', 'IsGitDirty', 'IsGitClean', 'GitTreeState', 'GitURL', 'Summary', 'ReleaseNotes',
  // per artifact
  'Os', 'Arch', 'Arm', 'Target', 'Binary', 'ArtifactName', 'ArtifactPath', 'ArtifactExt', 'ArtifactID',
]);

export function templateIssues(raw: unknown): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  for (const pattern of TEMPLATE_PATHS) {
    for (const [path, value] of match(raw, pattern, [])) {
      if (typeof value !== 'string' || !value.includes('{{')) continue;
      const issue = checkTemplate(value, path);
      if (issue) issues.push(issue);
    }
  }
  return issues;
}

function checkTemplate(text: string, path: Array<string | number>): ConfigIssue | undefined {
  try {
    parseTemplate(text, 'check');
  } catch (err) {
    if (err instanceof TemplateError) return { path, message: `bad template: ${err.detail}` };
    throw err;
  }
  try {
    checkTemplateCalls(text, 'check');
  } catch (err) {
    if (err instanceof TemplateError) {
      const at = err.line !== undefined ? ` (template line ${err.line}, column ${err.column})` : '';
      return { path, message: `bad template: ${err.detail}${at}` };
    }
    throw err;
  }
  for (const ref of fieldsUsed(text)) {
    const [first] = ref;
    if (first !== undefined && !TEMPLATE_FIELDS.has(first)) {
      return { path, message: `template uses unknown field .${ref.join('.')}` };
    }
  }
  return undefined;
}

function* match(
  node: unknown,
  pattern: ReadonlyArray<string>,
  at: Array<string | number>,
): Generator<[Array<string | number>, unknown]> {
  if (pattern.length === 0) {
    yield [at, node];
    return;
  }
  if (node === null || typeof node !== 'object') return;
  const [head, ...rest] = pattern;
  if (head === '*') {
    if (Array.isArray(node)) for (const [i, v] of node.entries()) yield* match(v, rest, [...at, i]);
    else for (const [k, v] of Object.entries(node)) yield* match(v, rest, [...at, k]);
  } else if (!Array.isArray(node) && head! in (node as object)) {
    yield* match((node as Record<string, unknown>)[head!], rest, [...at, head!]);
  }
}
