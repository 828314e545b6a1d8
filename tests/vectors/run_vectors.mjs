// The shared offline vectors through the scanner's JavaScript verifier, in any JavaScript
// engine: Node (run_scanner_verify.mjs) or the browser (tests/browser/test_offline_vectors.py).
//
// For each Ed25519 backend ("webcrypto", "noble"): the decision and reason of every credential
// vector, and the state each revocation list vector leaves (or "error"). The Python tests
// compare them with the answers in the vectors file.

function stateOf(held) {
  return {
    version: held.version,
    revoked: held.revoked,
    suspended: held.suspended,
    account_inactive: held.accountInactive,
  };
}

export async function runVectors(verify, vectors, backends) {
  const keys = vectors.keys.keys;
  const results = {};
  for (const backend of backends) {
    const signature = (publicKey, sig, message) =>
      verify.ed25519Verify(publicKey, sig, message, { backend });
    const held = await verify.applyRevocations(null, vectors.revocations, keys, signature);
    const state = verify.offlineState(vectors.keys, held);
    const credentials = {};
    for (const vector of vectors.credentials) {
      const answer = await verify.verifyOffline(vector.credential, vector.now, state, signature);
      credentials[vector.name] = { decision: answer.decision, reason: answer.reason };
    }
    const lists = {};
    for (const vector of vectors.revocation_lists) {
      try {
        lists[vector.name] = stateOf(
          await verify.applyRevocations(held, vector.list, keys, signature),
        );
      } catch (error) {
        if (!(error instanceof verify.RevocationListError)) throw error;
        lists[vector.name] = "error";
      }
    }
    results[backend] = { credentials, revocation_lists: lists };
  }
  return results;
}
