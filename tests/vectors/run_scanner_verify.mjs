// Runs the shared offline vectors through the scanner's JavaScript verifier, in Node.
//
//   node run_scanner_verify.mjs <scanner-verify.js URL> <vectors.json path> <backend>...
//
// Prints one JSON object: for each Ed25519 backend ("webcrypto", "noble"), the decision and
// reason of every credential vector, and the state each revocation list vector leaves (or
// "error"). tests/test_offline_vectors.py compares it with the expected answers in the file.
import { readFileSync } from "node:fs";

const [moduleUrl, vectorsPath, ...backends] = process.argv.slice(2);
const verify = await import(moduleUrl);
const vectors = JSON.parse(readFileSync(vectorsPath, "utf8"));
const keys = vectors.keys.keys;

function stateOf(held) {
  return {
    version: held.version,
    revoked: held.revoked,
    suspended: held.suspended,
    account_inactive: held.accountInactive,
  };
}

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
process.stdout.write(JSON.stringify(results));
