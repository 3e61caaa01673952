// Writes test/file-durations.json (seconds per test file, what test/duration-sequencer.ts orders
// CI's test files by) from a vitest JSON report of a full run:
//   node_modules/.bin/vitest run --reporter=json --outputFile.json=report.json
//   node scripts/test-durations.mjs report.json
import { readFileSync, writeFileSync } from 'node:fs';

const report = JSON.parse(readFileSync(process.argv[2] ?? '', 'utf8'));
const seconds = {};
for (const file of report.testResults) {
  const path = /(?:^|\/)((?:apps|packages|test)\/.*)$/.exec(file.name)?.[1];
  if (path) seconds[path] = Math.round((file.endTime - file.startTime) / 100) / 10;
}
const sorted = Object.fromEntries(Object.entries(seconds).sort(([a], [b]) => (a < b ? -1 : 1)));
writeFileSync(new URL('../test/file-durations.json', import.meta.url), `${JSON.stringify(sorted, null, 2)}\n`);
console.log(`test/file-durations.json: ${Object.keys(sorted).length} files`);
