/**
 * Who a keyless signature's certificate names, and the identity policy a
 * verifier asks for: cosign's `--certificate-identity[-regexp]` and
 * `--certificate-oidc-issuer[-regexp]`.
 *
 * As cosign: an exact value must equal; a regexp uses Go RE2 syntax and is
 * unanchored (Go's `regexp.MatchString`: `^…$` to match the whole value), and
 * when both forms are given both must hold. The identity may be any of the
 * certificate's subject alternative names (URI, email, or Fulcio's username
 * otherName); the issuer is Fulcio's issuer extension (1.3.6.1.4.1.57264.1.8,
 * else the deprecated 1.3.6.1.4.1.57264.1.1).
 */
import type { X509Certificate } from '@sigstore/core';
import { UsageError } from '../util/errors.js';
import { compileUserRegexp, RegexpSyntaxError, type UserRegexp } from '../util/re2.js';

const OID_ISSUER_V2 = '1.3.6.1.4.1.57264.1.8';
const OID_ISSUER_V1 = '1.3.6.1.4.1.57264.1.1';
const OID_USERNAME = '1.3.6.1.4.1.57264.1.7';

/** The policy as given on the command line (or in config). */
export interface IdentityPolicy {
  identity?: string;
  identityRegexp?: string;
  issuer?: string;
  issuerRegexp?: string;
}

/** A policy whose regexps are compiled (RE2). */
export interface CompiledIdentityPolicy {
  identity?: string;
  identityRegexp?: UserRegexp;
  issuer?: string;
  issuerRegexp?: UserRegexp;
}

/** Who a certificate names. */
export interface CertificateIdentity {
  /** Every subject alternative name (URI, email, username), in that order. */
  subjectAlternativeNames: string[];
  issuer?: string;
}

const has = (v: string | undefined): v is string => v !== undefined && v !== '';

/** Whether any identity flag was given (keyless verification was asked for). */
export function hasIdentityPolicy(p: IdentityPolicy | undefined): boolean {
  return !!p && (has(p.identity) || has(p.identityRegexp) || has(p.issuer) || has(p.issuerRegexp));
}

/**
 * Checks that the policy names both an identity and an issuer (cosign refuses
 * keyless verification otherwise) and compiles its regexps. Usage errors name the flag.
 */
export function compileIdentityPolicy(p: IdentityPolicy | undefined): CompiledIdentityPolicy {
  if (!p || (!has(p.identity) && !has(p.identityRegexp))) {
    throw new UsageError('--certificate-identity or --certificate-identity-regexp is required for verification in keyless mode');
  }
  if (!has(p.issuer) && !has(p.issuerRegexp)) {
    throw new UsageError('--certificate-oidc-issuer or --certificate-oidc-issuer-regexp is required for verification in keyless mode');
  }
  const compile = (flag: string, pattern: string | undefined): UserRegexp | undefined => {
    if (!has(pattern)) return undefined;
    try {
      return compileUserRegexp(pattern);
    } catch (err) {
      const why = err instanceof RegexpSyntaxError ? err.message : String(err);
      throw new UsageError(`--${flag}: ${why}`);
    }
  };
  return {
    identity: has(p.identity) ? p.identity : undefined,
    identityRegexp: compile('certificate-identity-regexp', p.identityRegexp),
    issuer: has(p.issuer) ? p.issuer : undefined,
    issuerRegexp: compile('certificate-oidc-issuer-regexp', p.issuerRegexp),
  };
}

/** Reads the identity a Fulcio certificate names. */
export function certificateIdentity(cert: X509Certificate): CertificateIdentity {
  const sans: string[] = [];
  try {
    const ext = cert.extSubjectAltName;
    for (const v of [ext?.uri, ext?.rfc822Name, ext?.otherName(OID_USERNAME)]) if (has(v)) sans.push(v);
  } catch {
    /* a malformed SAN names nobody */
  }
  let issuer: string | undefined;
  try {
    const v2 = cert.extension(OID_ISSUER_V2);
    if (v2) issuer = v2.valueObj.subs[0]?.value.toString('utf8');
    else issuer = cert.extension(OID_ISSUER_V1)?.value.toString('utf8');
  } catch {
    issuer = undefined;
  }
  return { subjectAlternativeNames: sans, issuer };
}

const quote = (s: string): string => JSON.stringify(s.length > 200 ? `${s.slice(0, 200)}…` : s);

/** Why the certificate does not satisfy the policy (one line), or undefined when it does. */
export function identityMismatch(id: CertificateIdentity, policy: CompiledIdentityPolicy): string | undefined {
  const named = id.subjectAlternativeNames.length === 0 ? 'no identity' : id.subjectAlternativeNames.map(quote).join(', ');
  const ok = (v: string): boolean => (policy.identity === undefined || v === policy.identity) && (policy.identityRegexp === undefined || policy.identityRegexp.test(v));
  if (!id.subjectAlternativeNames.some(ok)) {
    const want = [
      policy.identity !== undefined ? quote(policy.identity) : undefined,
      policy.identityRegexp !== undefined ? `one matching regexp ${quote(policy.identityRegexp.source)}` : undefined,
    ]
      .filter(Boolean)
      .join(' and ');
    return `wrong certificate identity: the certificate names ${named}, want ${want}`;
  }
  const iss = id.issuer;
  if (iss === undefined || iss === '') return 'wrong certificate OIDC issuer: the certificate names no issuer';
  if (policy.issuer !== undefined && iss !== policy.issuer) {
    return `wrong certificate OIDC issuer: the certificate names ${quote(iss)}, want ${quote(policy.issuer)}`;
  }
  if (policy.issuerRegexp !== undefined && !policy.issuerRegexp.test(iss)) {
    return `wrong certificate OIDC issuer: the certificate names ${quote(iss)}, which does not match regexp ${quote(policy.issuerRegexp.source)}`;
  }
  return undefined;
}
