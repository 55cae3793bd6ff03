import { readFileSync } from 'node:fs';
import AjvModule from 'ajv';
import { parse } from 'yaml';

/** SchemaStore's GitHub Actions workflow schema (draft-07), saved in test/fixtures/schemas with its source. */
const schema = JSON.parse(readFileSync(new URL('../fixtures/schemas/github-workflow.json', import.meta.url), 'utf8')) as object;
const Ajv = (AjvModule as unknown as { default?: typeof AjvModule }).default ?? AjvModule;
const ajv = new (Ajv as unknown as new (o: object) => { compile(s: object): ((d: unknown) => boolean) & { errors?: unknown } })({
  allErrors: true,
  strict: false,
  validateFormats: false,
});
const validate = ajv.compile(schema);

/** Parses a workflow file and returns the schema's complaints ([] when it is valid). */
export function workflowErrors(text: string): unknown[] {
  const data = parse(text) as unknown;
  return validate(data) ? [] : ((validate.errors as unknown[] | undefined) ?? ['invalid']);
}

/**
 * SchemaStore's GitLab CI schema (draft-07; its last version there, from 2021), saved in
 * test/fixtures/schemas. It predates `id_tokens` (GitLab 15.7), so that key is taken out of
 * each job before validating; callers check its shape themselves.
 */
const gitlabSchema = JSON.parse(readFileSync(new URL('../fixtures/schemas/gitlab-ci.json', import.meta.url), 'utf8')) as object;
const validateGitlab = ajv.compile(gitlabSchema);

/** Parses a .gitlab-ci.yml and returns the schema's complaints ([] when it is valid). */
export function gitlabCiErrors(text: string): unknown[] {
  const data = parse(text) as Record<string, unknown>;
  const withoutIdTokens = Object.fromEntries(
    Object.entries(data).map(([k, v]) => {
      if (!v || typeof v !== 'object' || Array.isArray(v) || !('id_tokens' in v)) return [k, v];
      const { id_tokens: _omit, ...job } = v as Record<string, unknown>;
      return [k, job];
    }),
  );
  return validateGitlab(withoutIdTokens) ? [] : ((validateGitlab.errors as unknown[] | undefined) ?? ['invalid']);
}
