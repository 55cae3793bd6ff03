import { afterEach, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config/load.js';
import { TempRepo } from '../helpers/repo.js';

const repos: TempRepo[] = [];
afterEach(async () => {
  await Promise.all(repos.splice(0).map((r) => r.remove()));
});

async function load(yaml: string) {
  const r = await TempRepo.plain({ 'relsign.config.yaml': yaml });
  repos.push(r);
  return loadConfig({ cwd: r.dir });
}

async function errorsOf(yaml: string): Promise<string[]> {
  try {
    await load(yaml);
  } catch (err) {
    if (err instanceof ConfigError) return [...err.details];
    throw err;
  }
  return [];
}

describe('config: registries', () => {
  it('takes host, templated username/password, insecure (default false)', async () => {
    const { config } = await load(
      'registries:\n  - host: ghcr.io\n    username: "{{ .Env.GITHUB_ACTOR }}"\n    password: "{{ .Env.GITHUB_TOKEN }}"\n  - host: registry.internal:5000\n    insecure: true\n',
    );
    expect(config.registries).toEqual([
      { host: 'ghcr.io', username: '{{ .Env.GITHUB_ACTOR }}', password: '{{ .Env.GITHUB_TOKEN }}', insecure: false },
      { host: 'registry.internal:5000', insecure: true },
    ]);
    expect((await load('project_name: a\n')).config.registries).toEqual([]);
  });

  it('unknown keys, a missing host and template typos are reported with their path', async () => {
    expect(await errorsOf('registries:\n  - host: ghcr.io\n    pasword: x\n')).toEqual([
      'relsign.config.yaml:3:5: registries[0].pasword: unknown key, did you mean password?',
    ]);
    expect((await errorsOf('registries:\n  - username: x\n')).join('\n')).toMatch(/registries\[0\].*host/);
    expect((await errorsOf('registries:\n  - host: ghcr.io\n    password: "{{ .Env.TOKEN "\n')).join('\n')).toMatch(/registries\[0\]\.password/);
  });
});
