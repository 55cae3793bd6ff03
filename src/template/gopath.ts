/**
 * Go's path/filepath Clean, Dir, Base, Join and Abs with `/` separators
 * (GoReleaser's `dir`, `base`, `join`, `abs`). Unlike node:path,
 * Dir("/a/b/") is "/a/b" and Dir("a") is ".".
 */
import { isAbsolute, resolve } from 'node:path';

export function clean(path: string): string {
  if (path === '') return '.';
  const rooted = path.startsWith('/');
  const out: string[] = [];
  for (const seg of path.split('/')) {
    if (seg === '' || seg === '.') continue;
    if (seg === '..') {
      if (out.length > 0 && out[out.length - 1] !== '..') out.pop();
      else if (!rooted) out.push('..');
      continue;
    }
    out.push(seg);
  }
  const s = (rooted ? '/' : '') + out.join('/');
  return s === '' ? '.' : s;
}

export function dir(path: string): string {
  const i = path.lastIndexOf('/');
  return clean(path.slice(0, i + 1));
}

export function base(path: string): string {
  if (path === '') return '.';
  let p = path.replace(/\/+$/, '');
  if (p === '') return '/';
  p = p.slice(p.lastIndexOf('/') + 1);
  return p === '' ? '/' : p;
}

export function join(...elems: string[]): string {
  const i = elems.findIndex((e) => e !== '');
  return i < 0 ? '' : clean(elems.slice(i).join('/'));
}

export function abs(path: string): string {
  if (process.platform === 'win32') return resolve(path);
  return isAbsolute(path) ? clean(path) : join(process.cwd(), path);
}
