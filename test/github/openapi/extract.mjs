// Regenerates schemas.json: the response schemas of the endpoints relsign's
// release publisher uses, cut out of @octokit/openapi (api.github.com.json)
// with every $ref they reach copied along. The fake GitHub validates every
// response it sends against this snapshot, so it cannot drift from the API.
//   node test/github/openapi/extract.mjs
import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const specPath = require.resolve('@octokit/openapi/generated/api.github.com.json');
const spec = JSON.parse(readFileSync(specPath, 'utf8'));

export const OPERATIONS = [
  'repos/get',
  'repos/get-release-by-tag',
  'repos/list-releases',
  'repos/create-release',
  'repos/update-release',
  'repos/get-release',
  'repos/delete-release',
  'repos/upload-release-asset',
  'repos/list-release-assets',
  'repos/get-release-asset',
  'repos/delete-release-asset',
  'actions/get-repo-public-key',
  'actions/create-or-update-repo-secret',
];

function resolvePointer(ref) {
  let node = spec;
  for (const part of ref.replace(/^#\//, '').split('/')) node = node[part.replace(/~1/g, '/').replace(/~0/g, '~')];
  return node;
}

export function extractSchemas() {
const out = { source: `@octokit/openapi ${require('@octokit/openapi/package.json').version}`, operations: {}, components: { schemas: {} } };
const seen = new Set();
function collect(node) {
  if (Array.isArray(node)) return node.forEach(collect);
  if (!node || typeof node !== 'object') return;
  for (const [k, v] of Object.entries(node)) {
    if (k === '$ref' && typeof v === 'string' && v.startsWith('#/components/schemas/')) {
      const name = v.slice('#/components/schemas/'.length);
      if (!seen.has(name)) {
        seen.add(name);
        out.components.schemas[name] = resolvePointer(v);
        collect(out.components.schemas[name]);
      }
    } else collect(v);
  }
}
function deref(node) {
  // responses/examples refs (#/components/responses/...) are inlined; schema refs stay refs.
  if (node && typeof node === 'object' && typeof node.$ref === 'string' && !node.$ref.startsWith('#/components/schemas/')) {
    return deref(resolvePointer(node.$ref));
  }
  return node;
}

for (const [path, item] of Object.entries(spec.paths)) {
  for (const [method, op] of Object.entries(item)) {
    if (!OPERATIONS.includes(op?.operationId)) continue;
    const responses = {};
    for (const [status, resp0] of Object.entries(op.responses ?? {})) {
      const resp = deref(resp0);
      const schema = resp?.content?.['application/json']?.schema;
      responses[status] = schema ? deref(schema) : null;
      if (schema) collect(responses[status]);
    }
    out.operations[op.operationId] = { method: method.toUpperCase(), path, servers: op.servers?.map((s) => s.url), responses };
  }
}
const missing = OPERATIONS.filter((o) => !out.operations[o]);
if (missing.length) throw new Error(`operations not found: ${missing.join(', ')}`);
return out;
}

if (process.argv[1] && new URL(import.meta.url).pathname === process.argv[1]) {
  const out = extractSchemas();
  writeFileSync(new URL('./schemas.json', import.meta.url), JSON.stringify(out, null, 1) + '\n');
  console.log(`wrote ${Object.keys(out.operations).length} operations, ${Object.keys(out.components.schemas).length} schemas`);
}
