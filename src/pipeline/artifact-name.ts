import { RelsignError } from '../util/errors.js';

/** The longest file name most file systems accept, in bytes. */
export const MAX_NAME_BYTES = 255;

/**
 * Checks a file name relsign renders for an artifact (archive, binary,
 * checksum or source archive name). The name becomes a file in dist, a line
 * in the checksums file and a release asset name, so it must be one plain
 * file name: no control characters (a newline would split a checksums line),
 * no `/` or `\`, not starting with `-` (read as an option by tools) or `.`
 * (hidden; `.` and `..` are not files), and at most 255 bytes. `where` names
 * the template that produced it.
 */
export function checkArtifactName(name: string, where: string): string {
  const shown = JSON.stringify(name.length > 80 ? `${name.slice(0, 77)}...` : name);
  if (name === '') throw new RelsignError(`${where}: rendered to an empty name`);
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/.test(name)) {
    throw new RelsignError(`${where}: name ${shown} contains a control character (a newline, tab, ...); artifact names must be plain file names`);
  }
  if (name.includes('/') || name.includes('\\')) {
    throw new RelsignError(`${where}: name ${shown} must not contain a path separator (/ or \\)`);
  }
  if (name.startsWith('-') || name.startsWith('.')) {
    throw new RelsignError(`${where}: name ${shown} must not start with "${name[0]}"`);
  }
  const bytes = Buffer.byteLength(name, 'utf8');
  if (bytes > MAX_NAME_BYTES) {
    throw new RelsignError(`${where}: name ${shown} is ${bytes} bytes long; file names are limited to ${MAX_NAME_BYTES} bytes`);
  }
  return name;
}
