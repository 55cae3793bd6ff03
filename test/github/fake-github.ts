/**
 * A stateful fake GitHub for the release publisher (node:http on 127.0.0.1,
 * random port), GHES-style URLs: API at /api/v3, uploads at /api/uploads, so
 * a client that ignores the returned upload_url fails.
 *
 * It behaves as GitHub documents: drafts 404 on the tag endpoint; 422
 * already_exists on duplicate names; 0-byte, ≥ 2 GiB and 1001st-asset
 * rejections; `Link` pagination; `digest` on assets; published releases are
 * immutable; assets download by their API URL (302 to storage); > 80 writes a minute draw a secondary-limit 403 with
 * retry-after. Faults can be injected (502 leaving a `starter` asset,
 * connection reset, secondary limit, 404 replication lag).
 *
 * Every JSON response is validated against the @octokit/openapi schemas
 * snapshot (openapi/schemas.json); problems collect in `violations`.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { x25519 } from '@noble/curves/ed25519.js';
import AjvModule from 'ajv';

type Json = Record<string, unknown>;

export interface FakeAsset {
  id: number;
  name: string;
  label: string | null;
  content_type: string;
  size: number;
  state: 'uploaded' | 'open' | 'starter';
  digest: string | null;
  created_at: string;
  updated_at: string;
}

export interface FakeRelease {
  id: number;
  tag_name: string;
  target_commitish: string;
  name: string | null;
  body: string | null;
  draft: boolean;
  prerelease: boolean;
  immutable: boolean;
  created_at: string;
  published_at: string | null;
  updated_at: string;
  make_latest?: string;
  assets: FakeAsset[];
}

export type UploadFault =
  | { kind: '502-starter' }
  | { kind: 'reset' }
  | { kind: 'secondary-limit'; retryAfter: number }
  | { kind: '500' }
  /** Answers 201 but stores (and reports) a digest that is not that of the bytes received. */
  | { kind: 'wrong-digest' }
  /** Answers 201 but keeps only the first bytes (a copy cut short): size and digest are those of the truncated copy. */
  | { kind: 'truncated'; keep: number };

export interface RequestRecord {
  method: string;
  path: string;
  status: number;
  at: number;
  write: boolean;
  /** For uploads: the asset name asked for. */
  asset?: string;
}

export interface FakeGitHubOptions {
  owner?: string;
  repo?: string;
  token?: string;
  /** What GET /repos/{owner}/{repo} says about the token's push permission (default true). */
  canPush?: boolean;
  /** Clock for rate accounting (share the client's fake clock in tests). */
  now?: () => number;
  /** Enforce the 80 content-creating requests/minute secondary limit (default true). */
  enforceSecondaryLimit?: boolean;
  /** Validate responses against the OpenAPI snapshot (default true). */
  validate?: boolean;
  /** Answer GET requests without a token, as GitHub does for a public repository (default false). */
  anonymousReads?: boolean;
}

/** Asset bytes the fake keeps for downloads (larger uploads are counted but not kept). */
const MAX_KEPT_CONTENT = 64 * 1024 * 1024;

interface SchemaSnapshot {
  operations: Record<string, { method: string; path: string; responses: Record<string, unknown> }>;
  components: { schemas: Record<string, Json> };
}

const Ajv = (AjvModule as unknown as { default: typeof AjvModule }).default ?? AjvModule;

function loadValidators(): (op: string, status: number, body: unknown) => string | undefined {
  const snapshot = JSON.parse(readFileSync(new URL('./openapi/schemas.json', import.meta.url), 'utf8')) as SchemaSnapshot;
  const components = JSON.parse(JSON.stringify(snapshot.components)) as SchemaSnapshot['components'];
  // GitHub's docs say a failed upload can leave an asset in state "starter", which the
  // OpenAPI enum (uploaded, open) omits. This is the one documented deviation allowed.
  const state = (components.schemas['release-asset']!.properties as Record<string, { enum?: string[] }>).state!;
  state.enum = [...(state.enum ?? []), 'starter'];
  const ajv = new (Ajv as unknown as new (o: object) => {
    addSchema(s: object): void;
    compile(s: object): ((d: unknown) => boolean) & { errors?: Array<{ instancePath: string; message?: string }> | null };
  })({ strict: false, allErrors: true, validateFormats: false });
  ajv.addSchema({ $id: 'gh', components });
  const cache = new Map<string, ReturnType<typeof ajv.compile> | null>();
  return (op, status, body) => {
    const key = `${op} ${status}`;
    if (!cache.has(key)) {
      const o = snapshot.operations[op];
      if (!o) throw new Error(`fake GitHub: unknown operation ${op}`);
      const schema = o.responses[String(status)];
      if (schema === undefined && !(status >= 400)) throw new Error(`fake GitHub: ${op} does not document status ${status}`);
      cache.set(key, schema ? ajv.compile(JSON.parse(JSON.stringify(schema).replaceAll('"#/components/', '"gh#/components/'))) : null);
    }
    const v = cache.get(key);
    if (!v) return undefined;
    if (v(body)) return undefined;
    return `${op} ${status}: ${(v.errors ?? []).slice(0, 3).map((e) => `${e.instancePath} ${e.message}`).join('; ')}`;
  };
}

async function drain(req: IncomingMessage): Promise<void> {
  for await (const _ of req) void _;
}

const SECONDARY_MESSAGE =
  'You have exceeded a secondary rate limit. Please wait a few minutes before you try again. If you reach out to GitHub Support for help, please include the request ID.';
const DOCS = 'https://docs.github.com/rest';

export class FakeGitHub {
  readonly owner: string;
  readonly repo: string;
  readonly token: string;
  readonly releases: FakeRelease[] = [];
  readonly requests: RequestRecord[] = [];
  readonly violations: string[] = [];
  /** Asset bytes by asset id, served by the download endpoint. */
  readonly contents = new Map<number, Buffer>();
  /** The next N storage downloads answer this status (e.g. 503) instead of the bytes. */
  downloadFaults = { count: 0, status: 503 };
  /** Secrets stored through the Actions API. */
  readonly secrets = new Map<string, { encrypted_value: string; key_id: string }>();
  readonly actionsKey = x25519.keygen();
  readonly actionsKeyId = '568250167242549743';
  /** Faults for the next uploads of an asset name, consumed in order. */
  readonly uploadFaults = new Map<string, UploadFault[]>();
  /** The next N write requests (any asset) get a secondary-limit 403. */
  secondaryLimitNext = { count: 0, retryAfter: 1 };
  /** After a release is created, the next N requests about it get 404 (replication lag). */
  notFoundAfterCreate = 0;
  /** Called as upload bytes arrive (asset name, bytes so far). */
  onUploadBytes: ((name: string, received: number) => void) | undefined;
  /**
   * Returns true to stop reading an upload body (the client then blocks mid-upload)
   * until `releaseUploads()` is called: lets a test interrupt relsign mid-upload.
   */
  holdUploads: ((name: string, received: number) => boolean) | undefined;
  private held: Array<() => void> = [];
  /** Secondary-limit 403s the fake handed out because the client wrote too fast. */
  rateLimited = 0;
  private lagFor: { id: number; remaining: number } | undefined;
  private nextId = 1;
  private server: Server | undefined;
  private origin = '';
  private readonly now: () => number;
  private readonly validate?: (op: string, status: number, body: unknown) => string | undefined;
  private readonly writes: number[] = [];

  constructor(private readonly options: FakeGitHubOptions = {}) {
    this.owner = options.owner ?? 'acme';
    this.repo = options.repo ?? 'widget';
    this.token = options.token ?? 'ghp_faketoken000000000000000000000000000';
    this.now = options.now ?? Date.now;
    if (options.validate !== false) this.validate = loadValidators();
  }

  get apiUrl(): string {
    return `${this.origin}/api/v3`;
  }

  async start(): Promise<this> {
    this.server = createServer((req, res) => {
      this.handle(req, res).catch((err) => {
        if (!res.headersSent) this.send(res, 'internal', 500, { message: String(err), documentation_url: DOCS });
        else res.destroy();
      });
    });
    this.server.keepAliveTimeout = 1000;
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.origin = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  async close(): Promise<void> {
    if (!this.server) return;
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server!.close(() => resolve()));
  }

  /** A release as if made earlier (e.g. a leftover draft). */
  addRelease(init: Partial<FakeRelease> & { tag_name: string }): FakeRelease {
    const t = this.iso();
    const r: FakeRelease = {
      id: this.nextId++,
      target_commitish: 'main',
      name: init.tag_name,
      body: '',
      draft: false,
      prerelease: false,
      immutable: false,
      created_at: t,
      published_at: null,
      updated_at: t,
      assets: [],
      ...init,
    };
    if (!r.draft && r.published_at === null) r.published_at = t;
    this.releases.push(r);
    return r;
  }

  addAsset(release: FakeRelease, init: Partial<FakeAsset> & { name: string; content?: Buffer }): FakeAsset {
    const t = this.iso();
    const content = init.content;
    const a: FakeAsset = {
      id: this.nextId++,
      label: null,
      content_type: 'application/octet-stream',
      size: content?.length ?? 1,
      state: 'uploaded',
      digest: content ? `sha256:${createHash('sha256').update(content).digest('hex')}` : null,
      created_at: t,
      updated_at: t,
      ...init,
    };
    delete (a as { content?: Buffer }).content;
    if (content) this.contents.set(a.id, content);
    release.assets.push(a);
    return a;
  }

  /** Replaces an asset's bytes as a new upload would: size and digest follow the content. */
  setAssetContent(asset: FakeAsset, content: Buffer): void {
    this.contents.set(asset.id, content);
    asset.size = content.length;
    asset.digest = `sha256:${createHash('sha256').update(content).digest('hex')}`;
  }

  /** The asset of a release by name. */
  asset(release: FakeRelease, name: string): FakeAsset {
    const a = release.assets.find((x) => x.name === name);
    if (!a) throw new Error(`fake GitHub: no asset ${name} in ${release.tag_name}`);
    return a;
  }

  /** Resumes held uploads and stops holding new ones. */
  releaseUploads(): void {
    this.holdUploads = undefined;
    for (const resume of this.held.splice(0)) resume();
  }

  private waitForRelease(): Promise<void> {
    return new Promise((resolve) => this.held.push(resolve));
  }

  failUpload(name: string, ...faults: UploadFault[]): void {
    this.uploadFaults.set(name, [...(this.uploadFaults.get(name) ?? []), ...faults]);
  }

  writesCount(filter: (r: RequestRecord) => boolean = () => true): number {
    return this.requests.filter((r) => r.write && filter(r)).length;
  }

  uploads(): RequestRecord[] {
    return this.requests.filter((r) => r.method === 'POST' && r.path.startsWith('/api/uploads/'));
  }

  // ---------------------------------------------------------------- shapes

  private iso(): string {
    return new Date(this.now()).toISOString().replace(/\.\d{3}Z$/, 'Z');
  }

  private user(): Json {
    const base = `${this.apiUrl}/users/relsign-bot`;
    return {
      login: 'relsign-bot',
      id: 1,
      node_id: 'MDQ6VXNlcjE=',
      avatar_url: `${this.origin}/avatars/u/1`,
      gravatar_id: '',
      url: base,
      html_url: `${this.origin}/relsign-bot`,
      followers_url: `${base}/followers`,
      following_url: `${base}/following{/other_user}`,
      gists_url: `${base}/gists{/gist_id}`,
      starred_url: `${base}/starred{/owner}{/repo}`,
      subscriptions_url: `${base}/subscriptions`,
      organizations_url: `${base}/orgs`,
      repos_url: `${base}/repos`,
      events_url: `${base}/events{/privacy}`,
      received_events_url: `${base}/received_events`,
      type: 'Bot',
      site_admin: false,
    };
  }

  private repoApi(): string {
    return `${this.apiUrl}/repos/${this.owner}/${this.repo}`;
  }

  assetJson(r: FakeRelease, a: FakeAsset): Json {
    return {
      url: `${this.repoApi()}/releases/assets/${a.id}`,
      browser_download_url: `${this.origin}/${this.owner}/${this.repo}/releases/download/${encodeURIComponent(r.tag_name)}/${encodeURIComponent(a.name)}`,
      id: a.id,
      node_id: `RA_${a.id}`,
      name: a.name,
      label: a.label,
      state: a.state,
      content_type: a.content_type,
      size: a.size,
      digest: a.digest,
      download_count: 0,
      created_at: a.created_at,
      updated_at: a.updated_at,
      uploader: this.user(),
    };
  }

  releaseJson(r: FakeRelease): Json {
    const html = r.draft
      ? `${this.origin}/${this.owner}/${this.repo}/releases/tag/untagged-${r.id}`
      : `${this.origin}/${this.owner}/${this.repo}/releases/tag/${encodeURIComponent(r.tag_name)}`;
    return {
      url: `${this.repoApi()}/releases/${r.id}`,
      html_url: html,
      assets_url: `${this.repoApi()}/releases/${r.id}/assets`,
      upload_url: `${this.origin}/api/uploads/repos/${this.owner}/${this.repo}/releases/${r.id}/assets{?name,label}`,
      tarball_url: r.draft ? null : `${this.repoApi()}/tarball/${r.tag_name}`,
      zipball_url: r.draft ? null : `${this.repoApi()}/zipball/${r.tag_name}`,
      id: r.id,
      node_id: `RE_${r.id}`,
      tag_name: r.tag_name,
      target_commitish: r.target_commitish,
      name: r.name,
      body: r.body,
      draft: r.draft,
      prerelease: r.prerelease,
      immutable: r.immutable,
      created_at: r.created_at,
      published_at: r.published_at,
      updated_at: r.updated_at,
      author: this.user(),
      assets: r.assets.map((a) => this.assetJson(r, a)),
    };
  }

  // ---------------------------------------------------------------- plumbing

  private send(res: ServerResponse, op: string, status: number, body?: unknown, headers: Record<string, string> = {}): void {
    if (body !== undefined && this.validate && op !== 'internal') {
      const problem = this.validate(op, status, body);
      if (problem) this.violations.push(problem);
    }
    const text = body === undefined ? '' : JSON.stringify(body);
    res.writeHead(status, {
      ...(body !== undefined ? { 'content-type': 'application/json; charset=utf-8' } : {}),
      'content-length': String(Buffer.byteLength(text)),
      'x-github-api-version-selected': '2022-11-28',
      ...headers,
    });
    res.end(text);
  }

  private notFound(res: ServerResponse, op: string): void {
    this.send(res, op, 404, { message: 'Not Found', documentation_url: DOCS, status: '404' });
  }

  private invalid(res: ServerResponse, op: string, errors: Json[], message = 'Validation Failed'): void {
    this.send(res, op, 422, { message, errors, documentation_url: DOCS, status: '422' });
  }

  private async readJson(req: IncomingMessage): Promise<Json> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const text = Buffer.concat(chunks).toString('utf8');
    return text ? (JSON.parse(text) as Json) : {};
  }

  private paginate(req: IncomingMessage, res: ServerResponse, op: string, items: Json[]): void {
    const url = new URL(req.url!, this.origin);
    const perPage = Math.min(100, Math.max(1, Number(url.searchParams.get('per_page') ?? 30) || 30));
    const page = Math.max(1, Number(url.searchParams.get('page') ?? 1) || 1);
    const last = Math.max(1, Math.ceil(items.length / perPage));
    const link = (p: number, rel: string): string => {
      const u = new URL(url);
      u.searchParams.set('per_page', String(perPage));
      u.searchParams.set('page', String(p));
      return `<${u.href}>; rel="${rel}"`;
    };
    const links: string[] = [];
    if (page < last) links.push(link(page + 1, 'next'), link(last, 'last'));
    if (page > 1) links.push(link(1, 'first'), link(page - 1, 'prev'));
    this.send(res, op, 200, items.slice((page - 1) * perPage, page * perPage), links.length ? { link: links.join(', ') } : {});
  }

  /** Secondary limit: more than 80 content-creating requests in 60 s. */
  private overWriteBudget(): boolean {
    const now = this.now();
    this.writes.push(now);
    if (this.options.enforceSecondaryLimit === false) return false;
    const recent = this.writes.filter((t) => t > now - 60_000).length;
    return recent > 80;
  }

  private secondaryLimit(res: ServerResponse, retryAfter: number): void {
    res.writeHead(403, { 'content-type': 'application/json; charset=utf-8', 'retry-after': String(retryAfter) });
    res.end(JSON.stringify({ message: SECONDARY_MESSAGE, documentation_url: DOCS }));
  }

  private lagged(id: number): boolean {
    if (this.lagFor && this.lagFor.id === id && this.lagFor.remaining > 0) {
      this.lagFor.remaining--;
      return true;
    }
    return false;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url!, 'http://x');
    const method = req.method ?? 'GET';
    const write = method !== 'GET' && method !== 'HEAD';
    const record: RequestRecord = { method, path: url.pathname, status: 0, at: this.now(), write };
    this.requests.push(record);
    res.on('finish', () => (record.status = res.statusCode));

    // Storage: the pre-signed URL a download redirects to; it needs no token (GitHub's
    // storage refuses an Authorization header it did not ask for, so clients drop it).
    const stored = /^\/storage\/assets\/(\d+)$/.exec(url.pathname);
    if (stored && method === 'GET') {
      req.resume();
      if (req.headers.authorization) return this.send(res, 'internal', 400, { message: 'storage: unexpected Authorization header', documentation_url: DOCS });
      if (this.downloadFaults.count > 0) {
        this.downloadFaults.count--;
        return this.send(res, 'internal', this.downloadFaults.status, { message: 'storage unavailable', documentation_url: DOCS });
      }
      const content = this.contents.get(Number(stored[1]));
      if (!content) return this.send(res, 'internal', 404, { message: 'Not Found', documentation_url: DOCS });
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': String(content.length) });
      res.end(content);
      return;
    }

    const auth = req.headers.authorization ?? '';
    const anonymous = auth === '' && this.options.anonymousReads === true && !write;
    if (!anonymous && auth !== `token ${this.token}` && auth !== `Bearer ${this.token}` && auth !== `bearer ${this.token}`) {
      req.resume();
      return this.send(res, 'internal', 401, { message: 'Bad credentials', documentation_url: DOCS, status: '401' });
    }
    if (write) {
      if (this.secondaryLimitNext.count > 0) {
        this.secondaryLimitNext.count--;
        req.resume();
        return this.secondaryLimit(res, this.secondaryLimitNext.retryAfter);
      }
      if (this.overWriteBudget()) {
        this.rateLimited++;
        req.resume();
        return this.secondaryLimit(res, 60);
      }
    }

    const repoPrefix = `/repos/${this.owner}/${this.repo}`;
    const upload = new RegExp(`^/api/uploads${repoPrefix}/releases/(\\d+)/assets$`).exec(url.pathname);
    if (upload && method === 'POST') return this.upload(req, res, Number(upload[1]), url, record);
    if (!url.pathname.startsWith('/api/v3/')) {
      req.resume();
      return this.send(res, 'internal', 404, { message: 'Not Found', documentation_url: DOCS });
    }
    const path = url.pathname.slice('/api/v3'.length);
    if (!path.startsWith(repoPrefix + '/') && path !== repoPrefix) {
      req.resume();
      return this.notFound(res, 'repos/list-releases');
    }
    const rest = path.slice(repoPrefix.length);
    let m: RegExpExecArray | null;

    if (method === 'GET' && rest === '') {
      const push = this.options.canPush ?? true;
      // Only what relsign reads (permissions) is modelled; the documented full-repository
      // object has some 90 required fields, so this reply is not schema-validated.
      return this.send(res, 'internal', 200, {
        id: 1,
        name: this.repo,
        full_name: `${this.owner}/${this.repo}`,
        private: false,
        permissions: { admin: false, maintain: false, push, triage: true, pull: true },
      });
    }

    if (method === 'GET' && (m = /^\/releases\/tags\/(.+)$/.exec(rest))) {
      const tag = decodeURIComponent(m[1]!);
      const r = this.releases.find((x) => x.tag_name === tag && !x.draft);
      return r ? this.send(res, 'repos/get-release-by-tag', 200, this.releaseJson(r)) : this.notFound(res, 'repos/get-release-by-tag');
    }
    if (method === 'GET' && rest === '/releases') {
      const sorted = [...this.releases].sort((a, b) => b.id - a.id);
      return this.paginate(req, res, 'repos/list-releases', sorted.map((r) => this.releaseJson(r)));
    }
    if (method === 'POST' && rest === '/releases') return this.createRelease(req, res);
    if ((m = /^\/releases\/(\d+)$/.exec(rest))) {
      const r = this.releases.find((x) => x.id === Number(m![1]));
      if (!r || this.lagged(r.id)) {
        req.resume();
        return this.notFound(res, method === 'PATCH' ? 'repos/update-release' : 'repos/get-release');
      }
      if (method === 'GET') return this.send(res, 'repos/get-release', 200, this.releaseJson(r));
      if (method === 'PATCH') return this.updateRelease(req, res, r);
      if (method === 'DELETE') {
        req.resume();
        this.releases.splice(this.releases.indexOf(r), 1);
        res.writeHead(204).end();
        return;
      }
    }
    if (method === 'GET' && (m = /^\/releases\/(\d+)\/assets$/.exec(rest))) {
      const r = this.releases.find((x) => x.id === Number(m![1]));
      if (!r || this.lagged(r.id)) return this.notFound(res, 'repos/list-release-assets');
      return this.paginate(req, res, 'repos/list-release-assets', r.assets.map((a) => this.assetJson(r, a)));
    }
    if ((m = /^\/releases\/assets\/(\d+)$/.exec(rest))) {
      const id = Number(m[1]);
      const r = this.releases.find((x) => x.assets.some((a) => a.id === id));
      req.resume();
      if (!r) return this.notFound(res, method === 'DELETE' ? 'repos/delete-release-asset' : 'repos/get-release-asset');
      const a = r.assets.find((x) => x.id === id)!;
      if (method === 'GET' && /application\/octet-stream/.test(String(req.headers.accept ?? ''))) {
        // As GitHub: a redirect to the storage URL, which serves the bytes.
        if (!this.contents.has(a.id)) return this.send(res, 'internal', 404, { message: 'Not Found', documentation_url: DOCS });
        res.writeHead(302, { location: `${this.origin}/storage/assets/${a.id}`, 'content-length': '0' }).end();
        return;
      }
      if (method === 'GET') return this.send(res, 'repos/get-release-asset', 200, this.assetJson(r, a));
      if (method === 'DELETE') {
        if (r.immutable && !r.draft) return this.invalid(res, 'repos/delete-release-asset', [], 'Cannot delete asset from an immutable release');
        r.assets.splice(r.assets.indexOf(a), 1);
        res.writeHead(204).end();
        return;
      }
    }
    if (method === 'GET' && rest === '/actions/secrets/public-key') {
      return this.send(res, 'actions/get-repo-public-key', 200, {
        key_id: this.actionsKeyId,
        key: Buffer.from(this.actionsKey.publicKey).toString('base64'),
      });
    }
    if (method === 'PUT' && (m = /^\/actions\/secrets\/([A-Za-z0-9_]+)$/.exec(rest))) {
      const body = await this.readJson(req);
      if (body.key_id !== this.actionsKeyId || typeof body.encrypted_value !== 'string') {
        return this.invalid(res, 'internal', [{ resource: 'Secret', code: 'invalid', field: 'key_id' }]);
      }
      const existed = this.secrets.has(m[1]!);
      this.secrets.set(m[1]!, { encrypted_value: body.encrypted_value, key_id: body.key_id });
      if (existed) {
        res.writeHead(204).end();
        return;
      }
      return this.send(res, 'actions/create-or-update-repo-secret', 201, {});
    }
    req.resume();
    return this.send(res, 'internal', 404, { message: `fake GitHub: no route for ${method} ${path}`, documentation_url: DOCS });
  }

  private async createRelease(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = await this.readJson(req);
    const tag = body.tag_name;
    if (typeof tag !== 'string' || !tag) return this.invalid(res, 'repos/create-release', [{ resource: 'Release', code: 'missing_field', field: 'tag_name' }]);
    const published = this.releases.find((r) => r.tag_name === tag && !r.draft);
    if (published) {
      if (published.immutable) {
        return this.invalid(res, 'repos/create-release', [{ resource: 'Release', code: 'custom', field: 'tag_name', message: 'tag_name was used by an immutable release' }]);
      }
      return this.invalid(res, 'repos/create-release', [{ resource: 'Release', code: 'already_exists', field: 'tag_name' }]);
    }
    const r = this.addRelease({
      tag_name: tag,
      target_commitish: typeof body.target_commitish === 'string' ? body.target_commitish : 'main',
      name: typeof body.name === 'string' ? body.name : null,
      body: typeof body.body === 'string' ? body.body : null,
      draft: body.draft === true,
      prerelease: body.prerelease === true,
    });
    if (this.notFoundAfterCreate > 0) this.lagFor = { id: r.id, remaining: this.notFoundAfterCreate };
    this.send(res, 'repos/create-release', 201, this.releaseJson(r));
  }

  private async updateRelease(req: IncomingMessage, res: ServerResponse, r: FakeRelease): Promise<void> {
    const body = await this.readJson(req);
    if (r.immutable && !r.draft) {
      const forbidden = ['tag_name', 'target_commitish', 'draft', 'prerelease'].filter((k) => k in body && body[k] !== (r as never)[k]);
      if (forbidden.length > 0) {
        return this.invalid(res, 'repos/update-release', [{ resource: 'Release', code: 'custom', field: forbidden[0], message: `${forbidden[0]} cannot be changed when release is immutable` }]);
      }
    }
    if (typeof body.tag_name === 'string') r.tag_name = body.tag_name;
    if (typeof body.target_commitish === 'string') r.target_commitish = body.target_commitish;
    if (typeof body.name === 'string') r.name = body.name;
    if (typeof body.body === 'string') r.body = body.body;
    if (typeof body.prerelease === 'boolean') r.prerelease = body.prerelease;
    if (typeof body.make_latest === 'string') r.make_latest = body.make_latest;
    if (body.draft === false && r.draft) {
      r.draft = false;
      r.published_at = this.iso();
      // Immutable releases (GA Oct 2025): once published, assets are frozen.
      r.immutable = true;
    }
    r.updated_at = this.iso();
    this.send(res, 'repos/update-release', 200, this.releaseJson(r));
  }

  private async upload(req: IncomingMessage, res: ServerResponse, releaseId: number, url: URL, record: RequestRecord): Promise<void> {
    const op = 'repos/upload-release-asset';
    const r = this.releases.find((x) => x.id === releaseId);
    if (!r || this.lagged(releaseId)) {
      req.resume();
      return this.notFound(res, 'internal');
    }
    const name = url.searchParams.get('name');
    const label = url.searchParams.get('label');
    if (name) record.asset = name;
    const lengthHeader = req.headers['content-length'];
    if (!name) {
      req.resume();
      return this.invalid(res, op, [{ resource: 'ReleaseAsset', code: 'missing_field', field: 'name' }]);
    }
    if (lengthHeader === undefined || req.headers['transfer-encoding']) {
      req.resume();
      return this.send(res, 'internal', 400, { message: 'Bad Content-Length', documentation_url: DOCS });
    }
    if (!req.headers['content-type']) {
      req.resume();
      return this.invalid(res, op, [{ resource: 'ReleaseAsset', code: 'missing_field', field: 'content_type' }]);
    }
    const length = Number(lengthHeader);
    if (length === 0) {
      req.resume();
      return this.invalid(res, op, [{ resource: 'ReleaseAsset', code: 'custom', field: 'size', message: 'size must be greater than or equal to 1' }]);
    }
    if (length === 2 * 1024 ** 3) {
      // Observed behaviour at exactly 2 GiB: a bare 500.
      res.on('finish', () => req.destroy());
      res.writeHead(500, { connection: 'close' }).end();
      return;
    }
    if (length > 2 * 1024 ** 3) {
      // Answer from the header, without reading a body that size; then drop the connection.
      res.on('finish', () => req.destroy());
      res.setHeader('connection', 'close');
      return this.invalid(res, op, [{ resource: 'ReleaseAsset', code: 'custom', field: 'size', message: 'size must be less than or equal to 2147483648' }]);
    }
    if (r.immutable && !r.draft) {
      req.resume();
      return this.invalid(res, op, [], 'Cannot upload assets to an immutable release.');
    }
    if (r.assets.length >= 1000) {
      req.resume();
      return this.invalid(res, op, [{ resource: 'ReleaseAsset', code: 'custom', field: 'file_count', message: 'file_count limited to 1000 assets per release' }]);
    }
    const fault = this.uploadFaults.get(name)?.shift();
    if (fault?.kind === 'secondary-limit') {
      req.resume();
      return this.secondaryLimit(res, fault.retryAfter);
    }
    if (r.assets.some((a) => a.name === name)) {
      await drain(req);
      return this.invalid(res, op, [{ resource: 'ReleaseAsset', code: 'already_exists', field: 'name' }]);
    }
    if (fault?.kind === 'reset') {
      // Read a little, then drop the connection: the client sees a reset socket.
      const socket = req.socket;
      for await (const _ of req) break;
      socket.destroy();
      return;
    }
    if (fault?.kind === '502-starter') {
      // GitHub can answer 502 and keep an empty asset in state "starter" that blocks the name.
      this.addAsset(r, { name, label, size: 0, state: 'starter', digest: null, content_type: String(req.headers['content-type']) });
      await drain(req);
      res.writeHead(502, { 'content-type': 'text/html' }).end('<html><body><h1>502 Bad Gateway</h1></body></html>');
      return;
    }
    if (fault?.kind === '500') {
      await drain(req);
      return this.send(res, 'internal', 500, { message: 'Server Error', documentation_url: DOCS });
    }
    const keep = fault?.kind === 'truncated' ? fault.keep : Infinity;
    const hash = createHash('sha256');
    const kept: Buffer[] = [];
    let size = 0;
    let stored = 0;
    // GitHub keeps a `starter` asset while an upload is in flight; it stays behind when the client goes away.
    const pending = this.addAsset(r, { name, label, size: 0, state: 'starter', digest: null, content_type: String(req.headers['content-type']) });
    try {
      for await (const chunk of req) {
        const buf = chunk as Buffer;
        size += buf.length;
        if (stored < keep) {
          const part = buf.subarray(0, Math.min(buf.length, keep - stored));
          hash.update(part);
          stored += part.length;
          if (stored <= MAX_KEPT_CONTENT) kept.push(Buffer.from(part));
        }
        this.onUploadBytes?.(name, size);
        if (this.holdUploads?.(name, size)) await this.waitForRelease();
      }
    } catch {
      return; // client disconnected mid-upload: the starter asset remains
    }
    if (req.readableAborted || size !== length) {
      if (req.readableAborted) return;
      return this.send(res, 'internal', 400, { message: 'Bad Content-Length', documentation_url: DOCS });
    }
    if (fault?.kind === 'wrong-digest') hash.update('corrupted in storage');
    if (stored <= MAX_KEPT_CONTENT) this.contents.set(pending.id, Buffer.concat(kept));
    Object.assign(pending, { size: stored, state: 'uploaded', digest: `sha256:${hash.digest('hex')}`, updated_at: this.iso() });
    this.send(res, op, 201, this.assetJson(r, pending));
  }
}
