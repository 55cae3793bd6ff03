/**
 * A loopback HTTP proxy in front of a test registry, to make it misbehave on
 * purpose: answer some requests itself (503, 429, wrong redirect…) or alter
 * response bytes (tampered blobs). It forwards the Host header unchanged, so
 * the registry's upload Locations point back at the proxy.
 */
import http from 'node:http';
import type net from 'node:net';

export interface ProxiedRequest {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

export interface ProxyHooks {
  /** Answer instead of the registry (return undefined to forward). */
  intercept?(req: ProxiedRequest): { status: number; headers?: Record<string, string>; body?: string | Buffer } | undefined;
  /** Replace the registry's response body (return undefined to keep it). */
  transform?(req: ProxiedRequest, status: number, body: Buffer): Buffer | undefined;
  /** Drop the connection without an answer (a reset) instead of forwarding. */
  reset?(req: ProxiedRequest): boolean;
  /** Keep request bodies in `requests` (default true; off for large uploads, `body` is then empty). */
  recordBodies?: boolean;
}

export interface TestProxy {
  host: string;
  url: string;
  /** Every request seen, in order (bodies included: keep test payloads small). */
  requests: ProxiedRequest[];
  stop(): Promise<void>;
}

export async function startProxy(targetHost: string, hooks: ProxyHooks = {}): Promise<TestProxy> {
  const requests: ProxiedRequest[] = [];
  const [thost, tport] = targetHost.split(':');
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const seen: ProxiedRequest = { method: req.method ?? 'GET', url: req.url ?? '/', headers: req.headers, body: Buffer.concat(chunks) };
      requests.push(hooks.recordBodies === false ? { ...seen, body: Buffer.alloc(0) } : seen);
      if (hooks.reset?.(seen)) {
        req.socket.destroy();
        return;
      }
      const answer = hooks.intercept?.(seen);
      if (answer) {
        res.writeHead(answer.status, answer.headers ?? {});
        res.end(answer.body ?? '');
        return;
      }
      const headers = { ...req.headers };
      delete headers['transfer-encoding'];
      headers['content-length'] = String(seen.body.length);
      const up = http.request({ host: thost, port: Number(tport), method: seen.method, path: seen.url, headers }, (upRes) => {
        const body: Buffer[] = [];
        upRes.on('data', (c: Buffer) => body.push(c));
        upRes.on('end', () => {
          let out: Buffer = Buffer.concat(body);
          const changed = hooks.transform?.(seen, upRes.statusCode ?? 500, out);
          const h = { ...upRes.headers };
          if (changed) {
            out = changed;
            if (seen.method !== 'HEAD') h['content-length'] = String(out.length);
          }
          delete h['transfer-encoding'];
          res.writeHead(upRes.statusCode ?? 500, h);
          res.end(seen.method === 'HEAD' ? undefined : out);
        });
      });
      up.on('error', (err) => {
        res.writeHead(502);
        res.end(String(err));
      });
      up.end(seen.body);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as net.AddressInfo).port;
  return {
    host: `127.0.0.1:${port}`,
    url: `http://127.0.0.1:${port}`,
    requests,
    stop: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}
