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
