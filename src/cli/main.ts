import { Command } from 'commander';
import { TimeMergeError } from '../params/errors.js';
import { VERSION } from '../version.js';
import { commanderStatus, oneLineArgumentErrors } from './arg-errors.js';
import { registerClip } from './commands/clip.js';
import { registerMerge } from './commands/merge.js';
import { registerReport } from './commands/report.js';
import { registerRun } from './commands/run.js';
import { registerSim } from './commands/sim.js';
import { registerStart } from './commands/start.js';
import { registerTechniques } from './commands/techniques.js';
import { installInterruptHandlers } from './interrupt.js';

const program = new Command();
program
  .name('time-merge')
  .description(
    'Temporal model merging: merge safetensors checkpoints and run TIME studies (init, train, store, deploy, eval).',
  )
  .version(VERSION, '-V, --version', 'print the version and exit');
// Before the commands are registered: they inherit it (options and arguments added later included).
oneLineArgumentErrors(program);

registerStart(program);
registerMerge(program);
registerTechniques(program);
registerSim(program);
registerClip(program);
registerReport(program);
registerRun(program);

installInterruptHandlers();
try {
  await program.parseAsync(process.argv);
} catch (err) {
  // Project errors name the problem; print them plainly. Anything else is a bug: keep the stack.
  const status = commanderStatus(err);
  if (status !== undefined) {
    // Commander printed the message (one line) or the help/version already.
    process.exitCode = status;
  } else if (err instanceof TimeMergeError) {
    console.error(`time-merge: ${err.message}`);
    process.exitCode = 2;
  } else {
    throw err;
  }
}
