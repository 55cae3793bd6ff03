/**
 * cosign-compatible signing, in-process: key files, blob signatures, bundles.
 * See docs/signing.md.
 */
export { Signer, type BlobSignature, type PasswordInput } from './signer.js';
export { verifyBlob, decodeSignature, type VerifyBlobOptions, type VerifyBlobResult } from './verify.js';
export {
  generateKeyPair,
  importKeyPair,
  writeKeyPair,
  assertKeyPairWritable,
  keyPairPaths,
  readKeyRef,
  loadPublicKey,
  parsePublicKeyPem,
  parseImportablePrivateKey,
  parseEncryptedKeyPem,
  decryptKeyFile,
  decryptPrivateKeyPem,
  encryptPrivateKey,
  parsePrivateKeyDer,
  keyAlgorithmOf,
  publicKeyPem,
  publicKeyDer,
  publicKeyHint,
  privateKeyPkcs8,
  SIGSTORE_PRIVATE_KEY_PEM_TYPE,
  COSIGN_PRIVATE_KEY_PEM_TYPE,
  type KeyAlgorithm,
  type KeyPairPems,
  type KeySource,
  type EncryptedKeyFile,
} from './keys.js';
export {
  encryptEnvelope,
  decryptEnvelope,
  parseEnvelope,
  openEnvelope,
  checkScryptParams,
  IncorrectPasswordError,
  DEFAULT_SCRYPT_PARAMS,
  COSIGN_SCRYPT_PARAMS,
  SCRYPT_LIMITS,
  type ScryptParams,
  type ParsedEnvelope,
} from './envelope.js';
export {
  makeLegacyBundle,
  makeMessageSignatureBundle,
  parseBundle,
  BUNDLE_V03_MEDIA_TYPE,
  type LegacyBundle,
  type MessageSignatureBundleJson,
  type ParsedBundle,
  type RekorBundle,
} from './bundle.js';
export { signingHash, type HashAlgorithm } from './algorithms.js';
export { BlobVerificationError, type VerificationFailure } from './errors.js';
export { getPassword, PASSWORD_ENV, type PasswordOptions } from './password.js';
export { decodePem, encodePem, type PemBlock } from './pem.js';
export { MAX_KEY_BYTES, MAX_SIGNATURE_BYTES, MAX_BUNDLE_BYTES, MAX_TRUSTED_ROOT_BYTES } from './limits.js';
