import { readFile } from 'node:fs/promises';
import { basename, dirname, extname, resolve } from 'node:path';
import { RelsignError, describeError } from '../util/errors.js';
import { distProblem } from '../stages/dist.js';
import { applyDefaults } from './defaults.js';
import { semanticIssues } from './semantic.js';
import { ConfigSource, parseYamlConfig } from './source.js';
import type { RelsignConfig } from './types.js';
import { formatIssue, validateAgainstSchema } from './validate.js';

/** Where relsign looks for a config, in order (cosmiconfig's search places for "relsign"). */
export const SEARCH_PLACES = [
  'package.json',
  '.relsignrc',
  '.relsignrc.json',
  '.relsignrc.yaml',
  '.relsignrc.yml',
  '.relsignrc.js',
  '.relsignrc.mjs',
  '.config/relsignrc',
  '.config/relsignrc.yaml',
  '.config/relsignrc.yml',
  '.config/relsignrc.json',
  'relsign.config.yaml',
  'relsign.config.yml',
  'relsign.config.json',
  'relsign.config.js',
  'relsign.config.mjs',
];

export interface LoadedConfig {
  config: RelsignConfig;
  source: ConfigSource;
  /** Directory every relative path in the config is relative to. */
  projectDir: string;
}

/** Config problems: each detail is one line naming file:line:col and the config path. */
export class ConfigError extends RelsignError {
  constructor(lines: string[]) {
    super(lines.join('\n'), { details: lines });
    this.name = 'ConfigError';
  }
}

/**
 * Finds (or reads the given) config, parses it keeping positions, validates it
 * against the schema and the rules the schema cannot express, and applies
 * defaults. Throws ConfigError listing every problem found.
 */
export async function loadConfig(options: { cwd: string; configPath?: string }): Promise<LoadedConfig> {
  const source = options.configPath
    ? await readConfigFile(resolve(options.cwd, options.configPath))
    : await discover(options.cwd);
  const schemaIssues = await validateAgainstSchema(source.data);
  if (schemaIssues.length > 0) throw new ConfigError(schemaIssues.map((i) => formatIssue(source, i)));
  const raw = source.data as Record<string, unknown>;
  const projectDir = options.configPath ? options.cwd : source.filepath ? dirname(source.filepath) : options.cwd;
  const config = applyDefaults(raw, { projectName: basename(resolve(projectDir)) });
  const issues = semanticIssues(raw, config);
  const dist = await distProblem(projectDir, config.dist);
  if (dist) issues.push({ path: ['dist'], message: dist });
  if (issues.length > 0) throw new ConfigError(issues.map((i) => formatIssue(source, i)));
  return { config, source, projectDir };
}

async function discover(cwd: string): Promise<ConfigSource> {
  const { cosmiconfig } = await import('cosmiconfig');
  const explorer = cosmiconfig('relsign', {
    searchPlaces: SEARCH_PLACES,
    searchStrategy: 'none',
    // YAML goes through our own parser (positions for messages); cosmiconfig's js-yaml is bypassed.
    loaders: { '.yaml': yamlLoader, '.yml': yamlLoader, noExt: yamlLoader },
  });
  let result;
  try {
    result = await explorer.search(cwd);
  } catch (err) {
    if (err instanceof RelsignError) throw err;
    throw new RelsignError(`cannot load config: ${describeError(err)}`);
  }
  if (!result || result.isEmpty) {
    throw new RelsignError(
      `no relsign config found in ${cwd} (looked for relsign.config.{yaml,yml,json,js,mjs}, .relsignrc*, package.json#relsign); pass --config FILE`,
    );
  }
  const src = yamlSources.get(result.filepath);
  return src ?? new ConfigSource(result.filepath, result.config);
}

const yamlSources = new Map<string, ConfigSource>();

function yamlLoader(filepath: string, content: string): unknown {
  const parsed = parseYamlConfig(filepath, content);
  if (parsed.errors.length > 0) throw new ConfigError(parsed.errors);
  yamlSources.set(filepath, parsed.source!);
  return parsed.source!.data;
}

async function readConfigFile(filepath: string): Promise<ConfigSource> {
  let text: string;
  try {
    text = await readFile(filepath, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new RelsignError(
      code === 'ENOENT' ? `config file not found: ${filepath}` : `cannot read config ${filepath}: ${describeError(err)}`,
    );
  }
  const ext = extname(filepath).toLowerCase();
  if (ext === '.json') {
    try {
      return new ConfigSource(filepath, JSON.parse(text));
    } catch (err) {
      throw new ConfigError([`${basename(filepath)}: invalid JSON: ${describeError(err)}`]);
    }
  }
  if (ext === '.js' || ext === '.mjs' || ext === '.cjs') {
    try {
      const mod = (await import(new URL(`file://${filepath}`).href)) as { default?: unknown };
      return new ConfigSource(filepath, mod.default ?? mod);
    } catch (err) {
      throw new RelsignError(`cannot load config ${basename(filepath)}: ${describeError(err)}`);
    }
  }
  const parsed = parseYamlConfig(filepath, text);
  if (parsed.errors.length > 0) throw new ConfigError(parsed.errors);
  return parsed.source!;
}
