/* ch'tipass — what a scanner can decide with no network: the JavaScript port of the reference
 * offline verifier.
 *
 * This module mirrors Python, function by function, and must change with it:
 *   decodeCredential()  ->  passes/codec.py  decode()         (malformed)
 *   keyFor()            ->  passes/offline.py OfflineVerifier._key_for()
 *   validityError()     ->  passes/codec.py  check_validity() (expired, not_yet_valid, stale_code)
 *   verifyOffline()     ->  passes/offline.py OfflineVerifier.verify()  — same reasons, same order
 *   applyRevocations()  ->  passes/offline.py OfflineVerifier.apply_revocations()
 *   canonicalJson()     ->  passes/offline.py canonical_json()
 *   networkSpaceIds()   ->  the "spaces" part of OfflineVerifier.from_published()
 *
 * No DOM, no storage, no network (except loading the vendored Ed25519 fallback): a browser test
 * can import it on its own and feed it credentials made by the Python codec.
 */

export const PREFIX = "CP1:";
export const VERSION = 1;
export const BODY_SIZE = 24;
export const SIGNATURE_SIZE = 64;
export const RAW_SIZE = BODY_SIZE + SIGNATURE_SIZE; // 88 bytes
export const TEXT_SIZE = PREFIX.length + Math.ceil((RAW_SIZE * 8) / 5); // 145 characters
export const WINDOW_SECONDS = 30;
export const STATIC_COUNTER = 0;
export const CLOCK_SKEW_SECONDS = 60;
export const COUNTER_WINDOW = [-2, 1]; // accepted counters: [now - 2, now + 1]

const BASE32_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
const encoder = new TextEncoder();
const DOMAIN = encoder.encode("CP1");
const REVOCATION_DOMAIN = encoder.encode("CP1-RL");

export class CredentialError extends Error {
  constructor(code) {
    super(code);
    this.code = code;
  }
}

export class RevocationListError extends Error {}

function concat(a, b) {
  const out = new Uint8Array(a.length + b.length);
  out.set(a, 0);
  out.set(b, a.length);
  return out;
}

export function base64ToBytes(text) {
  const binary = atob(text);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i += 1) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

/** Parse without verifying: {claims, body, signature}, or CredentialError("malformed"). */
export function decodeCredential(text) {
  if (typeof text !== "string" || text.length !== TEXT_SIZE || !text.startsWith(PREFIX)) {
    throw new CredentialError("malformed");
  }
  const raw = new Uint8Array(RAW_SIZE);
  let buffer = 0;
  let bits = 0;
  let length = 0;
  for (const character of text.slice(PREFIX.length)) {
    const value = BASE32_ALPHABET.indexOf(character);
    if (value < 0) throw new CredentialError("malformed");
    buffer = (buffer << 5) | value;
    bits += 5;
    if (bits >= 8) {
      bits -= 8;
      if (length === RAW_SIZE) throw new CredentialError("malformed");
      raw[length] = (buffer >> bits) & 0xff;
      length += 1;
    }
    buffer &= (1 << bits) - 1;
  }
  // Only the canonical spelling: the spare bits of the last character must be zero, as in
  // codec.decode (which re-encodes and compares).
  if (length !== RAW_SIZE || buffer !== 0) throw new CredentialError("malformed");
  const body = raw.slice(0, BODY_SIZE);
  const signature = raw.slice(BODY_SIZE);
  const view = new DataView(body.buffer);
  if (view.getUint8(0) !== VERSION) throw new CredentialError("malformed");
  const claims = {
    kid: view.getUint8(1),
    pass_id: view.getUint32(2),
    member_id: view.getUint32(6),
    home_space_id: view.getUint16(10),
    issued_at: view.getUint32(12),
    expires_at: view.getUint32(16),
    counter: view.getUint32(20),
  };
  return { claims, body, signature };
}

export function windowOf(unixSeconds) {
  return Math.floor(unixSeconds / WINDOW_SECONDS);
}

/** Time checks after the signature; returns a reason code or null. */
export function validityError(claims, now) {
  if (now > claims.expires_at + CLOCK_SKEW_SECONDS) return "expired";
  if (now < claims.issued_at - CLOCK_SKEW_SECONDS) return "not_yet_valid";
  if (claims.counter !== STATIC_COUNTER) {
    const current = windowOf(now);
    if (
      claims.counter < current + COUNTER_WINDOW[0] ||
      claims.counter > current + COUNTER_WINDOW[1]
    ) {
      return "stale_code";
    }
  }
  return null;
}

/** An API timestamp (ISO 8601, any number of fraction digits, or unix seconds) in seconds. */
export function parseTimestamp(value) {
  if (typeof value === "number") return value;
  // Date.parse is only specified for up to 3 fraction digits and a Date keeps milliseconds;
  // the API sends microseconds, which Python compares: the fraction is added back in full.
  const text = String(value);
  const fraction = /\.(\d+)/.exec(text);
  const whole = Date.parse(text.replace(/\.\d+/, "")) / 1000;
  return fraction ? whole + Number(`0.${fraction[1]}`) : whole;
}

/** The published key for `kid` if it may verify at `now` (unix seconds), else null. */
export function keyFor(keys, kid, now) {
  const key = (keys || []).find((item) => item.kid === kid);
  if (!key) return null;
  if (!(parseTimestamp(key.not_before) <= now && now <= parseTimestamp(key.verify_until))) {
    return null;
  }
  return key;
}

/** Space ids of the scanner's network, from GET /api/v1/network/keys/ ("spaces"). */
export function networkSpaceIds(keysDocument, network) {
  const spaces = (keysDocument && keysDocument.spaces) || [];
  return new Set(
    spaces
      .filter((space) => !network || space.network__slug === network)
      .map((space) => space.space_id),
  );
}

/** json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False). */
export function canonicalJson(value) {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  if (value !== null && typeof value === "object") {
    const members = Object.keys(value)
      .sort()
      .map((name) => `${JSON.stringify(name)}:${canonicalJson(value[name])}`);
    return `{${members.join(",")}}`;
  }
  return JSON.stringify(value);
}

// --- Ed25519: WebCrypto when the browser has it, else the vendored @noble/ed25519 -----------

let ed25519FallbackUrl = new URL("./vendor/noble-ed25519.js", import.meta.url).href;
let webCryptoEd25519 = null; // null: not tried yet
let noble = null;
const importedKeys = new Map();

/** Where the vendored @noble/ed25519 lives (the page passes its static URL). */
export function setEd25519FallbackUrl(url) {
  ed25519FallbackUrl = url;
}

/** "webcrypto", "noble" or "unknown" (before the first verification). */
export function ed25519Backend() {
  if (webCryptoEd25519 === null) return "unknown";
  return webCryptoEd25519 ? "webcrypto" : "noble";
}

async function webCryptoVerify(publicKey, signature, message) {
  const cacheKey = Array.from(publicKey).join(",");
  let key = importedKeys.get(cacheKey);
  if (!key) {
    key = await crypto.subtle.importKey("raw", publicKey, { name: "Ed25519" }, false, ["verify"]);
    importedKeys.set(cacheKey, key);
  }
  return crypto.subtle.verify({ name: "Ed25519" }, key, signature, message);
}

/**
 * true if `signature` is `publicKey`'s Ed25519 signature of `message` (all Uint8Array).
 * `options.backend` ("webcrypto" or "noble") forces one implementation, for tests.
 */
export async function ed25519Verify(publicKey, signature, message, options = {}) {
  const forced = options.backend;
  const useWebCrypto = forced ? forced === "webcrypto" : webCryptoEd25519 !== false;
  if (useWebCrypto && globalThis.crypto && crypto.subtle) {
    try {
      const valid = await webCryptoVerify(publicKey, signature, message);
      if (!forced) webCryptoEd25519 = true;
      return valid;
    } catch (error) {
      // Once WebCrypto has verified something, an error means a key or signature it will
      // not take: refuse. Browsers without Ed25519 in WebCrypto say NotSupportedError.
      if (forced || webCryptoEd25519 === true) return false;
      if (error && error.name === "NotSupportedError") webCryptoEd25519 = false;
    }
  }
  // A decoder that cannot load is an error, not a bad signature: let it throw.
  noble = noble || (await import(ed25519FallbackUrl));
  try {
    // zip215: false is RFC 8032 strict verification, like the server's `cryptography`.
    return await noble.verifyAsync(signature, message, publicKey, { zip215: false });
  } catch {
    return false;
  }
}

// --- The decision ---------------------------------------------------------------------------

/** What the scanner holds: from the keys document and the (verified) revocation state. */
export function offlineState(keysDocument, revocations) {
  return {
    keys: (keysDocument && keysDocument.keys) || [],
    networkSpaceIds: networkSpaceIds(keysDocument, revocations && revocations.network),
    revoked: new Set((revocations && revocations.revoked) || []),
    suspended: new Set((revocations && revocations.suspended) || []),
    accountInactive: new Set((revocations && revocations.accountInactive) || []),
  };
}

function refused(reason, claims = null) {
  return { decision: "refused", reason, claims };
}

/**
 * Mirrors OfflineVerifier.verify (passes/offline.py): the checks of SPEC §3 a device can make
 * alone, in the same order; the first failure is the reason. `now` is in unix seconds.
 */
export async function verifyOffline(text, now, state, verifySignature = ed25519Verify) {
  // 1. codec.verify: malformed, unknown_key, bad_signature — in that order, no claims.
  let decoded;
  try {
    decoded = decodeCredential(text);
  } catch (error) {
    if (error instanceof CredentialError) return refused(error.code);
    throw error;
  }
  const { claims, body, signature } = decoded;
  const key = keyFor(state.keys, claims.kid, now);
  if (!key) return refused("unknown_key");
  const signed = concat(DOMAIN, body);
  if (!(await verifySignature(base64ToBytes(key.public_key), signature, signed))) {
    return refused("bad_signature");
  }
  // 2. codec.check_validity: expired, not_yet_valid, stale_code.
  const timeError = validityError(claims, now);
  if (timeError) return refused(timeError);
  // 3. What only the server may accept, then the revocation list, then the network.
  if (claims.counter === STATIC_COUNTER) return refused("online_only", claims);
  if (state.revoked.has(claims.pass_id)) return refused("revoked", claims);
  if (state.suspended.has(claims.pass_id)) return refused("suspended", claims);
  if (state.accountInactive.has(claims.pass_id)) return refused("account_inactive", claims);
  if (!state.networkSpaceIds.has(claims.home_space_id)) return refused("not_in_network", claims);
  return { decision: "accepted", reason: null, claims };
}

/**
 * Mirrors OfflineVerifier.apply_revocations: check the signature, then apply a full list or a
 * delta that follows the version held. Returns the new state; throws RevocationListError.
 */
export async function applyRevocations(current, signedList, keys, verifySignature = ed25519Verify) {
  const payload = signedList.payload;
  const key = (keys || []).find((item) => item.kid === signedList.kid);
  if (!key) throw new RevocationListError("unknown key");
  const message = concat(REVOCATION_DOMAIN, encoder.encode(canonicalJson(payload)));
  const valid = await verifySignature(
    base64ToBytes(key.public_key),
    base64ToBytes(signedList.signature),
    message,
  );
  if (!valid) throw new RevocationListError("bad signature");
  let revoked;
  let suspended;
  let accountInactive;
  if (payload.full) {
    revoked = new Set(payload.revoked);
    suspended = new Set(payload.suspended);
    accountInactive = new Set(payload.account_inactive);
  } else {
    if (!current || payload.since !== current.version) {
      throw new RevocationListError("delta does not follow the version held");
    }
    if (!Array.isArray(current.accountInactive)) {
      // Held since before lists named deactivated accounts: only a full list has them all.
      throw new RevocationListError("the list held has no deactivated accounts");
    }
    revoked = new Set(current.revoked);
    suspended = new Set(current.suspended);
    accountInactive = new Set(current.accountInactive);
    // A delta gives each changed pass once, in its state now: it leaves its former one
    // (revoked is for good).
    for (const state of ["revoked", "suspended", "account_inactive", "reinstated"]) {
      for (const passId of payload[state]) {
        suspended.delete(passId);
        accountInactive.delete(passId);
      }
    }
    for (const passId of payload.revoked) revoked.add(passId);
    for (const passId of payload.suspended) suspended.add(passId);
    for (const passId of payload.account_inactive) accountInactive.add(passId);
  }
  const sorted = (ids) => [...ids].sort((a, b) => a - b);
  return {
    network: payload.network,
    version: payload.version,
    revoked: sorted(revoked),
    suspended: sorted(suspended),
    accountInactive: sorted(accountInactive),
    generatedAt: payload.generated_at,
  };
}

// --- What a keyboard wedge types --------------------------------------------------------------

// A USB scanner set up for a QWERTY keyboard, plugged into a French (AZERTY) computer, types
// "CP&M…" for "CP1:…": it sends key positions, and the computer reads them as AZERTY.
const AZERTY_DIGITS = { "&": "1", é: "2", '"': "3", "'": "4", "(": "5", "-": "6", è: "7" };
const AZERTY_LETTERS = { A: "Q", Q: "A", Z: "W", W: "Z", M: ":", "?": "M" };

/** The credential text a camera or a keyboard wedge read, cleaned up (may still be malformed). */
export function normalizeScannedText(raw) {
  const text = String(raw ?? "").replace(/\s+/g, "");
  if (/^cp1:/i.test(text)) return text.toUpperCase();
  if (/^cp&m/i.test(text)) {
    return Array.from(text, (character) => {
      if (AZERTY_DIGITS[character]) return AZERTY_DIGITS[character];
      const upper = character.toUpperCase();
      return AZERTY_LETTERS[upper] ?? upper;
    }).join("");
  }
  return text;
}
