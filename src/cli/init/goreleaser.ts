import { isMap, isScalar, isSeq, LineCounter, parseDocument, stringify, type Node } from 'yaml';
import { applyDefaults } from '../../config/defaults.js';
import { semanticIssues } from '../../config/semantic.js';
import { formatPath, type ConfigPath } from '../../config/source.js';
import { validateAgainstSchema } from '../../config/validate.js';
import { RelsignError } from '../../util/errors.js';

/** A GoReleaser field that has no place in the relsign config, and where it was. */
export interface Unmapped {
  line: number;
  /** GoReleaser path, e.g. `builds[0].mod_timestamp`. */
  key: string;
  reason: string;
}

export interface Converted {
  /** The relsign config as YAML, with a header listing what was not converted. */
  text: string;
  config: Record<string, unknown>;
  unmapped: Unmapped[];
}

type Obj = Record<string, unknown>;
type Path = Array<string | number>;

/** Go's GOOS/GOARCH pairs (`go tool dist list`); GoReleaser drops matrix entries outside it. */
const GO_PORTS: Record<string, string[]> = {
  aix: ['ppc64'],
  android: ['386', 'amd64', 'arm', 'arm64'],
  darwin: ['amd64', 'arm64'],
  dragonfly: ['amd64'],
  freebsd: ['386', 'amd64', 'arm', 'arm64', 'riscv64'],
  illumos: ['amd64'],
  ios: ['amd64', 'arm64'],
  js: ['wasm'],
  linux: ['386', 'amd64', 'arm', 'arm64', 'loong64', 'mips', 'mips64', 'mips64le', 'mipsle', 'ppc64', 'ppc64le', 'riscv64', 's390x'],
  netbsd: ['386', 'amd64', 'arm', 'arm64'],
  openbsd: ['386', 'amd64', 'arm', 'arm64', 'ppc64', 'riscv64'],
  plan9: ['386', 'amd64', 'arm'],
  solaris: ['amd64'],
  wasip1: ['wasm'],
  windows: ['386', 'amd64', 'arm64'],
};
/** GoReleaser's `go_first_class` targets. */
const GO_FIRST_CLASS = ['darwin_amd64', 'darwin_arm64', 'linux_386', 'linux_amd64', 'linux_arm_6', 'linux_arm64', 'windows_386', 'windows_amd64'];
const DEFAULT_LDFLAGS = '-s -w -X main.version={{.Version}} -X main.commit={{.Commit}} -X main.date={{.Date}} -X main.builtBy=goreleaser';
const MAX_TARGETS = 500;
const MAX_FIX_ROUNDS = 500;

const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const strList = (v: unknown): string[] => (Array.isArray(v) ? v.map(String) : v === undefined || v === null ? [] : [String(v)]);

class Conversion {
  readonly unmapped: Unmapped[] = [];
  /** Which relsign path came from which GoReleaser path. */
  private origin: Array<{ dst: Path; src: Path }> = [];
  private readonly lines = new LineCounter();
  readonly data: Obj;
  private readonly doc;

  constructor(text: string, readonly file: string) {
    this.doc = parseDocument(text, { lineCounter: this.lines, uniqueKeys: false });
    if (this.doc.errors.length > 0) {
      const e = this.doc.errors[0]!;
      const line = e.linePos?.[0]?.line ?? 0;
      throw new RelsignError(`${file}:${line}: not valid YAML: ${e.message.split('\n')[0]}`);
    }
    const data = this.doc.toJS({ maxAliasCount: 100 }) as unknown;
    if (!isObj(data)) throw new RelsignError(`${file}: not a GoReleaser config (expected a mapping at the top)`);
    this.data = data;
  }

  /** Line of a GoReleaser path: its key, or its list item. */
  lineOf(path: Path): number {
    let node: unknown = this.doc.contents;
    let offset = 0;
    for (const seg of path) {
      if (isMap(node)) {
        const pair = node.items.find((p) => (isScalar(p.key) ? p.key.value : p.key) === seg);
        if (!pair) break;
        offset = (pair.key as Node | null)?.range?.[0] ?? offset;
        node = pair.value;
      } else if (isSeq(node) && typeof seg === 'number') {
        const item = node.items[seg] as Node | undefined;
        if (!item) break;
        offset = item.range?.[0] ?? offset;
        node = item;
      } else break;
    }
    return this.lines.linePos(offset).line;
  }

  skip(path: Path, reason: string): void {
    this.unmapped.push({ line: this.lineOf(path), key: formatPath(path), reason });
  }

  from(dst: Path, src: Path): void {
    this.origin.push({ dst, src });
  }

  /** Keeps the record in step when item `index` of the list at `list` is taken out. */
  removedItem(list: ConfigPath, index: number): void {
    const n = list.length;
    const under = (d: Path) => d.length > n && list.every((seg, k) => d[k] === seg) && typeof d[n] === 'number';
    this.origin = this.origin
      .filter((e) => !(under(e.dst) && e.dst[n] === index))
      .map((e) => (under(e.dst) && (e.dst[n] as number) > index ? { ...e, dst: [...e.dst.slice(0, n), (e.dst[n] as number) - 1, ...e.dst.slice(n + 1)] } : e));
  }

  /**
   * The GoReleaser path a relsign path came from: the longest recorded prefix,
   * plus the rest of the path (copied values keep their shape below the key;
   * lineOf stops at the deepest part that exists).
   */
  originOf(dst: ConfigPath): Path | undefined {
    let best: { dst: Path; src: Path } | undefined;
    for (const e of this.origin) {
      if (e.dst.length <= dst.length && e.dst.every((seg, k) => dst[k] === seg) && (!best || e.dst.length > best.dst.length)) best = e;
    }
    return best ? [...best.src, ...dst.slice(best.dst.length)] : undefined;
  }

  /**
   * Copies the listed keys of `src` (at GoReleaser path `srcPath`) into `out`
   * (at relsign path `dstPath`); every other key is reported as not converted.
   */
  copy(src: Obj, srcPath: Path, out: Obj, dstPath: Path, keys: readonly string[], handled: readonly string[] = [], reasons: Record<string, string> = {}): void {
    for (const [k, v] of Object.entries(src)) {
      if (keys.includes(k)) {
        if (v === null || v === undefined) continue;
        out[k] = v;
        this.from([...dstPath, k], [...srcPath, k]);
        // List items get their own record, so taking one out keeps the others' lines right.
        if (Array.isArray(v)) v.forEach((_, i) => this.from([...dstPath, k, i], [...srcPath, k, i]));
      } else if (!handled.includes(k)) {
        this.skip([...srcPath, k], reasons[k] ?? 'no relsign equivalent');
      }
    }
  }
}

const TOP_REASONS: Record<string, string> = {
  dockers: 'relsign builds images without Docker from the binaries: see images: (docs/images.md)',
  dockers_v2: 'relsign builds images without Docker from the binaries: see images: (docs/images.md)',
  docker_manifests: 'relsign pushes multi-platform image indexes itself: see images:',
  binary_signs: 'sign raw binaries with signs: artifacts: binary and archives formats: [binary]',
  pro: 'GoReleaser Pro marker',
  gomod: 'no relsign equivalent (builds run your command as given)',
};

export async function convertGoreleaser(text: string, file: string): Promise<Converted> {
  const c = new Conversion(text, file);
  const g = c.data;
  const out: Obj = { version: 2 };
  const projectName = typeof g.project_name === 'string' ? g.project_name : undefined;

  for (const key of Object.keys(g)) {
    if (!['version', 'project_name', 'dist', 'env', 'before', 'builds', 'archives', 'source', 'checksum', 'signs', 'docker_signs', 'release', 'changelog', 'snapshot'].includes(key)) {
      c.skip([key], TOP_REASONS[key] ?? 'no relsign equivalent');
    }
  }
  c.copy(g, [], out, [], ['project_name', 'dist', 'env'], ['version', 'before', 'builds', 'archives', 'source', 'checksum', 'signs', 'docker_signs', 'release', 'changelog', 'snapshot', ...Object.keys(g).filter((k) => !['project_name', 'dist', 'env'].includes(k))]);

  if (isObj(g.before)) {
    const before: Obj = {};
    c.copy(g.before, ['before'], before, ['before'], ['hooks']);
    if (before.hooks) out.before = before;
  }

  out.builds = convertBuilds(c, g.builds, projectName);

  const archives = Array.isArray(g.archives) ? g.archives : [{}];
  out.archives = archives.filter(isObj).map((a, i) => convertArchive(c, a, i, archives === g.archives));

  if (isObj(g.source)) {
    const source: Obj = {};
    c.copy(g.source, ['source'], source, ['source'], ['enabled', 'name_template', 'format', 'prefix_template']);
    out.source = source;
  }

  if (isObj(g.checksum)) {
    const sum: Obj = {};
    c.copy(g.checksum, ['checksum'], sum, ['checksum'], ['name_template', 'split', 'ids', 'extra_files', 'disable'], ['algorithm']);
    const alg = g.checksum.algorithm;
    if (alg !== undefined) {
      if (alg === 'sha256' || alg === 'sha512' || alg === 'sha1') {
        sum.algorithm = alg;
        c.from(['checksum', 'algorithm'], ['checksum', 'algorithm']);
      } else c.skip(['checksum', 'algorithm'], `algorithm ${String(alg)} not supported (sha256, sha512, sha1)`);
    }
    out.checksum = sum;
  }

  const signKeys = ['id', 'cmd', 'args', 'signature', 'certificate', 'artifacts', 'ids', 'stdin', 'stdin_file', 'env', 'output', 'if'];
  for (const section of ['signs', 'docker_signs'] as const) {
    const list = g[section];
    if (!Array.isArray(list)) continue;
    out[section] = list.filter(isObj).map((s, i) => {
      const entry: Obj = { signer: 'cmd' };
      c.copy(s, [section, i], entry, [section, i], signKeys);
      // GoReleaser's defaults, spelled out: gpg for blobs (signing nothing unless `artifacts` says), cosign for images.
      if (section === 'signs') {
        entry.cmd ??= 'gpg';
        entry.artifacts ??= 'none';
      } else entry.cmd ??= 'cosign';
      return entry;
    });
  }

  if (isObj(g.release)) {
    const rel: Obj = {};
    const r = g.release;
    c.copy(r, ['release'], rel, ['release'], ['ids', 'draft', 'prerelease', 'make_latest', 'name_template', 'mode', 'replace_existing_artifacts', 'use_existing_draft', 'replace_existing_draft', 'extra_files', 'skip_upload', 'target_commitish', 'disable'], ['github', 'header', 'footer'], {
      gitlab: 'relsign publishes GitHub Releases only',
      gitea: 'relsign publishes GitHub Releases only',
    });
    if (isObj(r.github)) {
      const gh: Obj = {};
      c.copy(r.github, ['release', 'github'], gh, ['release', 'github'], ['owner', 'name']);
      rel.github = gh;
    }
    for (const k of ['header', 'footer'] as const) {
      if (r[k] === undefined) continue;
      if (typeof r[k] === 'string') {
        rel[k] = r[k];
        c.from(['release', k], ['release', k]);
      } else c.skip(['release', k], 'only a text (template) is supported, not from_file/from_url');
    }
    out.release = rel;
  }

  if (isObj(g.changelog)) {
    const ch: Obj = {};
    c.copy(g.changelog, ['changelog'], ch, ['changelog'], ['disable', 'sort'], ['filters'], {
      use: 'relsign builds the changelog from git log',
      groups: 'changelog groups are not supported',
      format: 'changelog format is not supported',
    });
    if (isObj(g.changelog.filters)) {
      const f: Obj = {};
      c.copy(g.changelog.filters, ['changelog', 'filters'], f, ['changelog', 'filters'], ['exclude', 'include']);
      ch.filters = f;
    }
    out.changelog = ch;
  }

  if (isObj(g.snapshot)) {
    const snap: Obj = {};
    c.copy(g.snapshot, ['snapshot'], snap, ['snapshot'], ['version_template'], ['name_template']);
    if (snap.version_template === undefined && g.snapshot.name_template !== undefined) {
      snap.version_template = g.snapshot.name_template;
      c.from(['snapshot', 'version_template'], ['snapshot', 'name_template']);
    }
    out.snapshot = snap;
  }

  await dropWhatCheckRejects(c, out);
  c.unmapped.sort((a, b) => a.line - b.line);
  return { text: render(out, c.unmapped, file), config: out, unmapped: c.unmapped };
}

function convertBuilds(c: Conversion, builds: unknown, projectName: string | undefined): Obj[] {
  const list = Array.isArray(builds) ? builds : [{}];
  const result: Obj[] = [];
  for (const [i, raw] of list.entries()) {
    if (!isObj(raw)) continue;
    const src: Path = Array.isArray(builds) ? ['builds', i] : ['builds'];
    const b = raw;
    if (b.builder !== undefined && b.builder !== 'go') {
      c.skip([...src, 'builder'], `builder ${String(b.builder)}: only Go builds are converted; write cmd: for it`);
      continue;
    }
    const n = result.length;
    const dst: Path = ['builds', n];
    const out: Obj = {};
    const name = projectName ?? 'app';
    out.id = typeof b.id === 'string' ? b.id : n === 0 ? name : `${name}-${n}`;
    if (b.id !== undefined) c.from([...dst, 'id'], [...src, 'id']);

    const gobin = typeof b.gobinary === 'string' ? b.gobinary : 'go';
    const command = typeof b.command === 'string' ? b.command : 'build';
    const cmd: string[] = [gobin, command];
    const push = (arg: string, from: Path) => {
      cmd.push(arg);
      c.from([...dst, 'cmd', cmd.length - 1], from);
    };
    for (const [k, f] of strList(b.flags).entries()) push(f, [...src, 'flags', k]);
    const ldflags = b.ldflags === undefined ? [DEFAULT_LDFLAGS] : strList(b.ldflags);
    if (ldflags.length > 0) push(`-ldflags=${ldflags.join(' ')}`, [...src, 'ldflags']);
    const tags = strList(b.tags);
    if (tags.length > 0) push(`-tags=${tags.join(',')}`, [...src, 'tags']);
    for (const key of ['gcflags', 'asmflags'] as const) {
      const v = strList(b[key]);
      if (v.length > 0) push(`-${key}=${v.join(' ')}`, [...src, key]);
    }
    cmd.push('-o', '{{ .Env.RELSIGN_OUTPUT }}');
    push(typeof b.main === 'string' ? b.main : '.', [...src, 'main']);
    out.cmd = cmd;
    if (typeof b.dir === 'string') {
      out.dir = b.dir;
      c.from([...dst, 'dir'], [...src, 'dir']);
    }
    if (b.env !== undefined) {
      out.env = strList(b.env);
      c.from([...dst, 'env'], [...src, 'env']);
    }
    out.targets = goTargets(c, b, src);
    c.from([...dst, 'targets'], src);
    out.binary = typeof b.binary === 'string' ? b.binary : name;
    if (b.binary !== undefined) c.from([...dst, 'binary'], [...src, 'binary']);
    if (isObj(b.hooks)) {
      const hooks: Obj = {};
      c.copy(b.hooks, [...src, 'hooks'], hooks, [...dst, 'hooks'], ['pre', 'post']);
      out.hooks = hooks;
    }
    if (b.skip !== undefined) {
      out.skip = b.skip;
      c.from([...dst, 'skip'], [...src, 'skip']);
    }
    if (b.no_unique_dist_dir === true) {
      // Straight into dist/, as GoReleaser puts it.
      out.output = '{{ .Binary }}{{ if eq .Os "windows" }}.exe{{ end }}';
      c.from([...dst, 'output'], [...src, 'no_unique_dist_dir']);
    }
    const consumed = ['no_unique_dist_dir', 'id', 'builder', 'gobinary', 'command', 'flags', 'ldflags', 'tags', 'gcflags', 'asmflags', 'main', 'dir', 'env', 'goos', 'goarch', 'goarm', 'goamd64', 'ignore', 'targets', 'binary', 'hooks', 'skip'];
    for (const k of Object.keys(b)) {
      if (!consumed.includes(k)) {
        c.skip([...src, k], k === 'mod_timestamp' ? 'binaries keep their build time; archives are reproducible anyway' : 'no relsign equivalent');
      }
    }
    result.push(out);
  }
  return result;
}

/** GoReleaser's goos × goarch (× goarm / goamd64) matrix minus `ignore`, as relsign targets. */
function goTargets(c: Conversion, b: Obj, src: Path): string[] {
  if (b.targets !== undefined) {
    const out: string[] = [];
    for (const t of strList(b.targets)) {
      if (t === 'go_first_class' || t === 'go_118_first_class') out.push(...GO_FIRST_CLASS);
      else out.push(t.replace(/_v1$/, '').replace(/_v8\.0$/, '').replace(/_sse2$/, '').replace(/_hardfloat$/, ''));
    }
    return [...new Set(out)];
  }
  const goos = b.goos === undefined ? ['linux', 'darwin', 'windows'] : strList(b.goos);
  const goarch = b.goarch === undefined ? ['amd64', 'arm64', '386'] : strList(b.goarch);
  const goarm = b.goarm === undefined ? ['6'] : strList(b.goarm);
  const goamd64 = b.goamd64 === undefined ? ['v1'] : strList(b.goamd64);
  const ignore = (Array.isArray(b.ignore) ? b.ignore : []).filter(isObj);
  const out: string[] = [];
  for (const os of goos) {
    for (const arch of goarch) {
      if (!GO_PORTS[os]?.includes(arch)) continue;
      const variants = arch === 'arm' ? goarm : arch === 'amd64' ? goamd64 : [''];
      for (const v of variants) {
        const ignored = ignore.some(
          (ig) => (ig.goos === undefined || String(ig.goos) === os) && (ig.goarch === undefined || String(ig.goarch) === arch) &&
            (ig.goarm === undefined || arch !== 'arm' || String(ig.goarm) === v) && (ig.goamd64 === undefined || arch !== 'amd64' || String(ig.goamd64) === v),
        );
        if (ignored) continue;
        const suffix = arch === 'arm' ? `_${v}` : arch === 'amd64' && v && v !== 'v1' ? `_${v}` : '';
        out.push(`${os}_${arch}${suffix}`);
        if (out.length > MAX_TARGETS) throw new RelsignError(`${c.file}:${c.lineOf(src)}: more than ${MAX_TARGETS} build targets`);
      }
    }
  }
  return out;
}

function convertArchive(c: Conversion, a: Obj, i: number, given: boolean): Obj {
  const src: Path = ['archives', i];
  const dst: Path = ['archives', i];
  const out: Obj = { id: typeof a.id === 'string' ? a.id : i === 0 ? 'default' : `archive-${i}` };
  if (!given) return out;
  if (a.id !== undefined) c.from([...dst, 'id'], [...src, 'id']);
  c.copy(a, src, out, dst, ['ids', 'formats', 'name_template', 'wrap_in_directory', 'meta'], ['id', 'builds', 'format', 'format_overrides', 'files'], {
    builds_info: 'binaries in archives keep mode 0755 and the archive\'s fixed owner and time',
    rlcp: 'relsign always keeps paths relative to the project (rlcp behaviour)',
    allow_different_binary_count: 'relsign only warns about different binary counts',
  });
  if (out.ids === undefined && a.builds !== undefined) {
    out.ids = strList(a.builds);
    c.from([...dst, 'ids'], [...src, 'builds']);
  }
  if (out.formats === undefined && a.format !== undefined) {
    out.formats = strList(a.format);
    c.from([...dst, 'formats'], [...src, 'format']);
  }
  if (Array.isArray(a.format_overrides)) {
    out.format_overrides = a.format_overrides.filter(isObj).map((fo, k) => {
      const o: Obj = {};
      c.copy(fo, [...src, 'format_overrides', k], o, [...dst, 'format_overrides', k], ['goos', 'formats'], ['format']);
      if (o.formats === undefined && fo.format !== undefined) {
        o.formats = strList(fo.format);
        c.from([...dst, 'format_overrides', k, 'formats'], [...src, 'format_overrides', k, 'format']);
      }
      return o;
    });
  }
  if (Array.isArray(a.files)) {
    out.files = a.files.map((f, k) => {
      const fsrc: Path = [...src, 'files', k];
      const fdst: Path = [...dst, 'files', k];
      if (!isObj(f)) {
        c.from(fdst, fsrc);
        return f;
      }
      const o: Obj = {};
      c.copy(f, fsrc, o, fdst, ['src', 'dst', 'strip_parent'], ['info']);
      if (isObj(f.info)) {
        const info: Obj = {};
        c.copy(f.info, [...fsrc, 'info'], info, [...fdst, 'info'], ['owner', 'group', 'mode', 'mtime']);
        o.info = info;
      }
      return o;
    });
  }
  return out;
}

function valueAt(root: Obj, path: ConfigPath): unknown {
  let node: unknown = root;
  for (const seg of path) node = typeof node === 'object' && node !== null ? (node as Record<string | number, unknown>)[seg] : undefined;
  return node;
}

/** Removes containers that a removal left empty, from `path` up (never the root). */
function pruneEmpty(c: Conversion, root: Obj, path: ConfigPath): void {
  for (let p = path; p.length > 0; p = p.slice(0, -1)) {
    const node = valueAt(root, p);
    const empty = Array.isArray(node) ? node.length === 0 : isObj(node) && Object.keys(node).length === 0;
    if (!empty || !deleteAt(c, root, p)) return;
  }
}

function deleteAt(c: Conversion, root: Obj, path: ConfigPath): boolean {
  if (path.length === 0) return false;
  let node: unknown = root;
  for (const seg of path.slice(0, -1)) {
    node = (node as Record<string | number, unknown> | undefined)?.[seg];
    if (typeof node !== 'object' || node === null) return false;
  }
  const last = path[path.length - 1]!;
  if (Array.isArray(node) && typeof last === 'number') {
    if (last >= node.length) return false;
    node.splice(last, 1);
    c.removedItem(path.slice(0, -1), last);
    return true;
  }
  if (typeof node === 'object' && node !== null && last in node) {
    delete (node as Record<string | number, unknown>)[last];
    return true;
  }
  return false;
}

/**
 * Runs relsign's own checks (schema, then the rules and template checks of
 * `relsign check`) on the result and takes out each value they reject, so the
 * written config always passes `relsign check` and nothing is dropped silently:
 * each removal is reported with the GoReleaser line it came from.
 */
async function dropWhatCheckRejects(c: Conversion, out: Obj): Promise<void> {
  for (let round = 0; round < MAX_FIX_ROUNDS; round++) {
    let issues = await validateAgainstSchema(out);
    if (issues.length === 0) {
      const config = applyDefaults(out, { projectName: typeof out.project_name === 'string' ? out.project_name : 'app' });
      issues = semanticIssues(out, config);
    }
    if (issues.length === 0) return;
    const issue = issues[0]!;
    // An argument of a command goes alone; anything else goes with the value the rule is about.
    // A missing required value (its template was rejected before) takes its parent with it.
    let target: ConfigPath = issue.path;
    while (target.length > 0 && valueAt(out, target) === undefined) target = target.slice(0, -1);
    if (target.length === 0) throw new RelsignError(`${c.file}: cannot convert: ${formatPath(issue.path)}: ${issue.message}`);
    const origin = c.originOf(target);
    deleteAt(c, out, target);
    pruneEmpty(c, out, target.slice(0, -1));
    const entry = {
      line: origin ? c.lineOf(origin) : 0,
      key: origin ? formatPath(origin) : formatPath(issue.path),
      reason: `relsign check: ${issue.message}`,
    };
    // A value whose template was rejected may leave its parent incomplete: one entry says it.
    if (!c.unmapped.some((u) => u.line === entry.line && entry.key.startsWith(u.key.replace(/\.cmd$/, '')))) c.unmapped.push(entry);
  }
  throw new RelsignError(`${c.file}: cannot convert: too many problems`);
}

function render(out: Obj, unmapped: readonly Unmapped[], file: string): string {
  const header = [
    '# yaml-language-server: $schema=https://unpkg.com/relsign/schema/relsign.schema.json',
    `# Converted by \`relsign init --from ${file}\`. Builds run \`go build\` once per`,
    '# target (relsign sets GOOS/GOARCH/GOARM and RELSIGN_OUTPUT); signs keep their',
    '# commands (signer: cmd). Check it: npx relsign check',
  ];
  if (unmapped.length > 0) {
    header.push('#', `# Not converted from ${file} (line: key: why):`);
    for (const u of [...unmapped].sort((a, b) => a.line - b.line)) header.push(`#   ${u.line}: ${u.key}: ${u.reason}`.replace(/\n/g, ' '));
  }
  return `${header.join('\n')}\n${stringify(out, { lineWidth: 0 })}`;
}
