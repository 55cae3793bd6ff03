import { describe, expect, it } from 'vitest';
import { COSIGN_FLAGS, cosignArgsProblem, parseCosignArgs } from '../../src/sigstore/cosign-args.js';

describe('cosign argv table', () => {
  it('parses cobra-style flags: --k=v, --k v, booleans, short flags, repeats', () => {
    const p = parseCosignArgs(['sign', '--key', 'cosign.key', '-a', 'a=1', '--annotations=b=2', '--tlog-upload=false', '-y', 'reg/x@sha256:ab']);
    expect(p.command).toBe('sign');
    expect(p.flags.get('key')).toBe('cosign.key');
    expect(p.repeated.get('annotations')).toEqual(['a=1', 'b=2']);
    expect(p.flags.get('tlog-upload')).toBe('false');
    expect(p.flags.get('yes')).toBe('true');
    expect(p.positionals).toEqual(['reg/x@sha256:ab']);
    expect(p.unsupported).toEqual([]);
  });

  it('names every unimplemented flag; --sk=false is not a use of it', () => {
    expect(parseCosignArgs(['sign-blob', '--key=k', '--fulcio-url=x', '--identity-token', 't', '--sk=false', 'f']).unsupported).toEqual(['--fulcio-url', '--identity-token']);
    expect(cosignArgsProblem(['sign-blob', '--key=k', '--rekor-url=x', 'f'])).toMatch(/cosign flag --rekor-url not implemented by relsign's built-in cosign/);
  });

  it('refuses unknown flags, flags of the other command, other commands, missing values and a missing --key', () => {
    expect(() => parseCosignArgs(['sign-blob', '--frobnicate', 'f'])).toThrow('unknown cosign flag --frobnicate');
    expect(() => parseCosignArgs(['sign-blob', '-a', 'x=y', 'f'])).toThrow('--annotations is not a flag of cosign sign-blob');
    expect(() => parseCosignArgs(['attest', 'f'])).toThrow(/is not run in-process/);
    expect(() => parseCosignArgs(['sign-blob', '--key'])).toThrow('--key needs a value');
    expect(cosignArgsProblem(['sign-blob', 'f'])).toMatch(/--key is required/);
  });

  it('lists the flags the brief names, each with a support level', () => {
    for (const name of ['tlog-upload', 'yes', 'output-signature', 'output-certificate', 'bundle', 'new-bundle-format', 'key', 'annotations', 'use-signing-config', 'identity-token', 'fulcio-url', 'rekor-url']) {
      expect(COSIGN_FLAGS.find((f) => f.name === name)?.support, name).toMatch(/^(yes|offline|no)$/);
    }
    expect(COSIGN_FLAGS.find((f) => f.name === 'tlog-upload')?.support).toBe('offline');
  });
});
