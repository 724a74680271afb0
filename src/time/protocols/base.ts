import { noOptions } from './options.js';
import type { InitProtocolDef } from './types.js';

/** Every step trains from θ0 (the experts are independent fine-tunes of the base model). */
export const baseInit: InitProtocolDef<'base'> = {
  name: 'base',
  summary: 'every step trains from θ0',
  syntax: '',
  merges: 'nothing',
  parse(options, method) {
    noOptions(`method "${method}": init protocol base`, options);
    return undefined;
  },
  resolve: () => ({}),
  label: () => 'base',
  start: () => 'base',
};
