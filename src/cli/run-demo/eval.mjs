// The demo's evaluator (Node version of eval.py): the accuracy of the classifier in --weights on each
// task's test.csv. time-merge runs it after every TIME step:
//   node eval.mjs --weights W --tasks ID,ID,... --data JSON
// --data is a JSON list of the tasks' folders in the order of --tasks. The last stdout line is the JSON
// answer: {task id: score in [0, 1]}.
import { loadCsv, logits, options, readF32 } from './demo-lib.mjs';

const a = options();
const w = readF32(a.weights);
const folders = JSON.parse(a.data);
const scores = {};
a.tasks.split(',').forEach((task, i) => {
  const { x, y } = loadCsv(folders[i], 'test');
  let right = 0;
  x.forEach((row, k) => {
    const z = logits(w.W.data, w.b.data, row);
    if (z.indexOf(Math.max(...z)) === y[k]) right++;
  });
  scores[task] = right / y.length;
});
console.log(JSON.stringify(scores));
