// Runs the shared offline vectors through the scanner's JavaScript verifier, in Node:
//
//   node run_scanner_verify.mjs <scanner-verify.js URL> <vectors.json path> <backend>...
//
// and prints what run_vectors.mjs returns, as JSON.
import { readFileSync } from "node:fs";

import { runVectors } from "./run_vectors.mjs";

const [moduleUrl, vectorsPath, ...backends] = process.argv.slice(2);
const verify = await import(moduleUrl);
const vectors = JSON.parse(readFileSync(vectorsPath, "utf8"));
process.stdout.write(JSON.stringify(await runVectors(verify, vectors, backends)));
