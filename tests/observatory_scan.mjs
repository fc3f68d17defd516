// Mozilla's HTTP Observatory (the MDN scanner, pinned in package.json) on a host with test ports.
//
//   NODE_EXTRA_CA_CERTS=cert.pem node tests/observatory_scan.mjs HOST HTTP_PORT HTTPS_PORT
//
// The scanner's own CLI scans only ports 80 and 443, so this runs its scan() step by step with the
// ports given: the same retriever, the same ten tests and the same grader. Prints JSON: grade, score
// and each test's result and score modifier.
import fs from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";

// The package's postinstall downloads Chromium's HSTS preload list; installs here run without
// scripts (.npmrc) and without that network, so an empty list stands in. A loopback test host is
// never on the preload list, so no preload bonus is claimed either way.
const require = createRequire(import.meta.url);
const pkg = path.dirname(require.resolve("@mdn/mdn-http-observatory/package.json"));
const preload = path.join(pkg, "conf", "hsts-preload.json");
if (!fs.existsSync(preload)) fs.writeFileSync(preload, "{}\n");

const { retrieve } = await import("@mdn/mdn-http-observatory/src/retriever/retriever.js");
const { ALL_TESTS, NUM_TESTS } = await import("@mdn/mdn-http-observatory/src/constants.js");
const { MINIMUM_SCORE_FOR_EXTRA_CREDIT } = await import("@mdn/mdn-http-observatory/src/grader/charts.js");
const { getGradeForScore, getScoreModifier } = await import("@mdn/mdn-http-observatory/src/grader/grader.js");

const [host, httpPort, httpsPort] = process.argv.slice(2);
const r = await retrieve(host, { httpPort, httpsPort });
if (!r.responses.auto) {
  console.log(JSON.stringify({ error: `${host} did not answer` }));
  process.exit(1);
}
// As scan(): extra credit counts only when the score without it is already an A.
let withExtraCredit = 100;
let uncurved = 100;
let passed = 0;
const tests = {};
for (const result of ALL_TESTS.map((test) => test(r))) {
  const modifier = getScoreModifier(result.result);
  passed += result.pass ? 1 : 0;
  withExtraCredit += modifier;
  if (modifier < 0) uncurved += modifier;
  tests[result.constructor.name] = { result: result.result, pass: result.pass, scoreModifier: modifier };
}
const final = getGradeForScore(uncurved >= MINIMUM_SCORE_FOR_EXTRA_CREDIT ? withExtraCredit : uncurved);
console.log(
  JSON.stringify({ grade: final.grade, score: final.score, testsPassed: passed, testsQuantity: NUM_TESTS,
    statusCode: r.responses.auto.status, tests }, null, 1),
);
