/** The study code's names for the one CSV reader (src/report/csv.ts): records, or objects by header. */
export { parseCsvRecords as parseCsv, csvObjects } from '../report/csv.js';
