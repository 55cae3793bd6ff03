/**
 * Fuzzes the config loader the way `relsign check` runs it: a file on disk →
 * `loadConfig` (YAML or JSON parse with positions, schema validation, defaults,
 * the semantic rules and template checks). Inputs are the example config and
 * a few others, mutated as text and as YAML trees, plus deep nesting, alias
 * bombs, huge values and random garbage. Only ConfigError / RelsignError may
 * come out, each line of it free of stack traces, and no input may take over 2 s.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import { loadConfig } from '../../src/config/load.js';
import { RelsignError } from '../../src/util/errors.js';
import { REPO_ROOT } from '../helpers/cli.js';
import { deepJson, deepYaml, fuzz, fuzzRuns, fuzzSeed, fuzzTimeout, mutate, randomJson, randomText, type Rng } from './input-mutator.js';

const SEED = fuzzSeed(0x5eed_c0f9);
const RUNS = fuzzRuns(2000);

const EXAMPLE = readFileSync(join(REPO_ROOT, 'release.config.example.yaml'));
const CORPUS = [
  EXAMPLE,
  Buffer.from(`version: 2
project_name: demo
dist: out
env: [CGO_ENABLED=0]
before:
  hooks: ["echo {{ .Version }}", {cmd: "make gen", dir: tools}]
builds:
  - id: cli
    cmd: [go, build, -o, "{{ .Binary }}"]
    targets: [linux_amd64, darwin_arm64]
    binary: demo
    hooks: {pre: "echo pre", post: ["echo post"]}
archives:
  - id: default
    ids: [cli]
    name_template: "{{ .ProjectName }}_{{ .Version }}_{{ .Os }}_{{ .Arch }}"
    files: [LICENSE, {src: "docs/*.md", dst: docs, strip_parent: true}]
checksum: {algorithm: sha512, split: false, extra_files: [{glob: "dist/*.sbom"}]}
signs:
  - id: cosign-cmd
    signer: cmd
    cmd: cosign
    args: ["sign-blob", "--key=env://COSIGN_KEY", "--output-signature=\${signature}", "\${artifact}", "--yes"]
    stdin: "{{ .Env.COSIGN_PASSWORD }}"
    artifacts: checksum
  - id: builtin
    signer: builtin
    key: cosign.key
    password: "{{ .Env.COSIGN_PASSWORD }}"
    artifacts: archive
    signature: "\${artifact}.sig"
    bundle: "\${artifact}.sigstore.json"
    new_bundle_format: true
release:
  github: {owner: acme, name: demo}
  draft: true
  prerelease: auto
  mode: append
  extra_files: [{glob: "./extra/*"}]
changelog: {sort: desc, filters: {exclude: ["^chore:"], include: ["^feat"]}}
snapshot: {version_template: "{{ incpatch .Version }}-next"}
`),
  Buffer.from(`project_name: tiny\nbuilds: [{cmd: [node, build.js], targets: [linux_amd64]}]\n`),
  Buffer.from(`{"version": 2, "project_name": "json", "signs": [{"signer": "builtin", "key": "env://K", "artifacts": "all"}]}\n`),
  Buffer.from(`images:\n  - id: img\n    base: scratch\n    images: ["ghcr.io/acme/demo:{{ .Version }}"]\n    platforms: [linux/amd64]\n    files: [{src: dist/demo, dst: /demo}]\ndocker_signs:\n  - signer: builtin\n    key: cosign.key\n    artifacts: images\n`),
];

const VOCABULARY = [
  'version', 'project_name', 'dist', 'env', 'before', 'hooks', 'builds', 'id', 'cmd', 'dir', 'targets', 'binary', 'output',
  'skip', 'prebuilt', 'archives', 'ids', 'formats', 'name_template', 'format_overrides', 'goos', 'wrap_in_directory', 'files',
  'src', 'dst', 'strip_parent', 'source', 'enabled', 'prefix_template', 'checksum', 'algorithm', 'split', 'extra_files',
  'images', 'base', 'platforms', 'labels', 'signs', 'docker_signs', 'signer', 'args', 'signature', 'certificate', 'stdin',
  'stdin_file', 'if', 'key', 'password', 'bundle', 'new_bundle_format', 'parallelism', 'artifacts', 'release', 'github',
  'owner', 'name', 'draft', 'prerelease', 'make_latest', 'mode', 'replace_existing_artifacts', 'disable', 'changelog',
  'sort', 'filters', 'exclude', 'include', 'snapshot', 'version_template', 'github_urls', 'api', '{{ .Version }}',
  '{{ .Env.X }}', '{{ if }}', '{{ range .Artifacts }}{{ end }}', '${artifact}', '$<signature>', 'builtin', 'cmd', 'all',
  'checksum', 'archive', 'env://COSIGN_KEY', '../../etc/passwd', '/etc/hosts', 'linux_amd64', 'auto', 'true', '~', '<<',
];

/** A YAML tree with one to three values somewhere inside replaced, re-serialised as YAML or JSON. */
function mutateTree(rng: Rng, text: Buffer): string {
  let doc: unknown;
  try {
    doc = parseYaml(text.toString('utf8'));
  } catch {
    return text.toString('utf8');
  }
  const edits = rng.range(1, 3);
  for (let e = 0; e < edits; e++) {
    let node = doc;
    for (let depth = 0; depth < 8; depth++) {
      if (node === null || typeof node !== 'object') break;
      const keys = Object.keys(node as object);
      if (keys.length === 0) break;
      const k = rng.pick(keys);
      const child = (node as Record<string, unknown>)[k];
      if (child === null || typeof child !== 'object' || rng.chance(0.3)) {
        const choice = rng.int(6);
        const target = node as Record<string, unknown>;
        if (choice === 0) delete target[k];
        else if (choice === 1) target[rng.pick(VOCABULARY)] = randomJson(rng, 3, VOCABULARY);
        else if (choice === 2) target[k] = rng.pick(VOCABULARY);
        else if (choice === 3) target[k] = rng.pick(VOCABULARY).repeat(rng.pick([1, 100, 10_000]));
        else target[k] = randomJson(rng, 3, VOCABULARY);
        break;
      }
      node = child;
    }
  }
  return rng.chance(0.7) ? stringifyYaml(doc) : (JSON.stringify(doc) ?? 'null');
}

function configInput(rng: Rng): { name: string; text: string } {
  const kind = rng.int(20);
  let text: string;
  if (kind < 8) text = mutate(rng, CORPUS).toString('utf8');
  else if (kind < 14) text = mutateTree(rng, rng.pick(CORPUS));
  else if (kind === 14) text = deepYaml(rng, rng.pick([50, 500, 3000]));
  else if (kind === 15) text = deepJson(rng, rng.pick([50, 500, 3000]));
  else if (kind === 16) text = `project_name: ${rng.pick(['x', '"', "'", '|', '>', '&a', '*a', '!!binary', '!js/function', '%TAG'])}${randomText(rng, 200)}\n`;
  else if (kind === 17) text = stringifyYaml(randomJson(rng, 6, VOCABULARY));
  else if (kind === 18) text = `${rng.pick(['builds', 'signs', 'archives', 'release', 'changelog'])}:\n${`  - ${rng.pick(VOCABULARY)}\n`.repeat(rng.pick([10, 2000]))}`;
  else text = randomText(rng, 2000);
  return { name: rng.chance(0.85) ? 'relsign.config.yaml' : 'relsign.config.json', text };
}

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'relsign-fuzz-config-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('fuzz: config loader (what relsign check runs)', () => {
  it('loadConfig: only ConfigError / RelsignError, without stack traces, on every input', async () => {
    const r = await fuzz({
      name: 'loadConfig',
      seed: SEED,
      runs: RUNS,
      generate: configInput,
      run: async ({ name, text }) => {
        await writeFile(join(dir, name), text);
        return loadConfig({ cwd: dir, configPath: name });
      },
      allowed: (err) => err instanceof RelsignError,
      multiLineErrors: true,
    });
    // Both outcomes are exercised: plenty of inputs load, plenty are refused.
    expect(r.rejected).toBeGreaterThan(RUNS / 10);
    expect(r.rejected).toBeLessThan(r.cases - RUNS / 20);
  }, fuzzTimeout(RUNS));
});
