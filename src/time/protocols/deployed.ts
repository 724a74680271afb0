import { noOptions } from './options.js';
import type { InitProtocolDef } from './types.js';

/**
 * Step t trains from the model deployed after step t-1 (θ0 at step 1), sharing the deploy protocol's
 * tracker; deployed+D is the same computation as D+D.
 */
export const deployedInit: InitProtocolDef<'deployed'> = {
  name: 'deployed',
  summary: 'step t trains from the model deployed after step t-1',
  syntax: '',
  merges: 'nothing',
  parse(options, method) {
    noOptions(`method "${method}": init protocol deployed`, options);
    return undefined;
  },
  resolve: () => ({}),
  label: () => 'deployed',
  start: () => 'deployed',
};
