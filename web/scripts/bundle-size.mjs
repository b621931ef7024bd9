// The initial JavaScript of the built app (the entry script and what index.html preloads),
// gzipped, against the budget of issue 9: at most 250 KB. Exits 1 over budget.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { gzipSync } from "node:zlib";

const BUDGET = 250 * 1024;
const dist = new URL("../dist/", import.meta.url).pathname;
const html = readFileSync(join(dist, "index.html"), "utf8");
const scripts = [...html.matchAll(/<(?:script[^>]+src|link[^>]+rel="modulepreload"[^>]+href)="\/([^"]+\.js)"/g)].map((m) => m[1]);
let total = 0;
for (const file of new Set(scripts)) {
  const size = gzipSync(readFileSync(join(dist, file)), { level: 9 }).length;
  total += size;
  console.log(`  ${file}  ${(size / 1024).toFixed(1)} KB gzip`);
}
const verdict = total <= BUDGET ? "within" : "OVER";
console.log(`initial JS: ${(total / 1024).toFixed(1)} KB gzip (${verdict} the ${BUDGET / 1024} KB budget)`);
process.exit(total <= BUDGET ? 0 : 1);
