// Prints vitest's JSON report as the plain line CI reads: "N passed, N failed[, N skipped]".
import { readFileSync } from 'node:fs';

const path = process.argv[2];
let report;
try {
  report = JSON.parse(readFileSync(path, 'utf8'));
} catch (err) {
  console.log('0 passed, 1 failed');
  console.error(`could not read the test report ${path}: ${err.message}`);
  process.exit(1);
}
const passed = report.numPassedTests ?? 0;
// A file that failed with no failing test (an import error, a failing hook) counts once; vitest's
// numFailedTestSuites also counts every describe block around a failing test, so it is not added.
const brokenFiles = (report.testResults ?? []).filter(
  (f) => f.status === 'failed' && !(f.assertionResults ?? []).some((a) => a.status === 'failed'),
).length;
const failed = (report.numFailedTests ?? 0) + brokenFiles;
const skipped = (report.numPendingTests ?? 0) + (report.numTodoTests ?? 0);
console.log(`${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
if (passed === 0) process.exit(1);
