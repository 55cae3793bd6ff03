import http from 'node:http';
import https from 'node:https';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';

/**
 * A minimal fetch for asset uploads, on node:http(s). Node 20's built-in
 * fetch (undici) reads a streamed request body far ahead of the socket: a
 * 512 MiB upload peaked at ~600 MB RSS in bench/upload-bench.mjs. Piping
 * through http.request keeps to the socket's backpressure, so memory stays
 * flat whatever the asset size. Only what Octokit's request layer uses is
 * implemented: method, headers, a string/bytes/async-iterable body, signal.
 */
export const streamingFetch: typeof fetch = (input, init = {}) =>
  new Promise<Response>((resolve, reject) => {
    const url = new URL(typeof input === 'string' ? input : input instanceof URL ? input.href : input.url);
    const mod = url.protocol === 'https:' ? https : http;
    const headers: Record<string, string> = {};
    new Headers(init.headers as ConstructorParameters<typeof Headers>[0]).forEach((v, k) => (headers[k] = v));
    let settled = false;
    const fail = (err: unknown): void => {
      if (settled) return;
      settled = true;
      const e = (err as { name?: string })?.name === 'AbortError' ? err : new TypeError('fetch failed', { cause: err });
      reject(e);
    };
    const req = mod.request(url, {
      method: init.method ?? 'GET',
      headers,
      ...(init.signal ? { signal: init.signal } : {}),
    });
    req.on('response', (res) => {
      if (settled) {
        res.resume();
        return;
      }
      settled = true;
      const h = new Headers();
      for (const [k, v] of Object.entries(res.headers)) {
        if (v === undefined) continue;
        if (Array.isArray(v)) v.forEach((x) => h.append(k, x));
        else h.set(k, v);
      }
      const status = res.statusCode ?? 500;
      const noBody = status === 204 || status === 304 || init.method === 'HEAD';
      if (noBody) res.resume();
      const response = new Response(noBody ? null : (Readable.toWeb(res) as ReadableStream<Uint8Array>), {
        status,
        statusText: res.statusMessage ?? '',
        headers: h,
      });
      Object.defineProperty(response, 'url', { value: url.href });
      resolve(response);
    });
    req.on('error', fail);
    const body = init.body as unknown;
    if (body === undefined || body === null) {
      req.end();
    } else if (typeof body === 'string' || body instanceof Uint8Array) {
      req.end(body);
    } else if (typeof (body as AsyncIterable<Uint8Array>)[Symbol.asyncIterator] === 'function') {
      // The server may answer early (403, 422) while we still send: its answer wins.
      pipeline(Readable.from(body as AsyncIterable<Uint8Array>, { objectMode: false }), req).catch((err) => {
        // After a response has arrived, a failed send (the server closed early) is not an error.
        if (!settled) fail(err);
      });
    } else {
      req.destroy();
      fail(new Error('streamingFetch: unsupported body type'));
    }
  });
