import { noOptions } from './options.js';
import type { DeployProtocol } from './registry.js';
import type { DeployProtocolDef, InitProtocolDef } from './types.js';

/** The init protocol that trains step t from the model a deploy protocol's tracker holds after step t-1. */
export function initFromDeploy<P extends DeployProtocol>(def: DeployProtocolDef<P>): InitProtocolDef<P['kind']> {
  return {
    name: def.kind,
    summary: `training starts from ${def.summary} before step t`,
    syntax: def.syntax,
    merges: def.merges,
    parse(options, method) {
      if (def.syntax === '') {
        noOptions(`method "${method}": init protocol ${def.kind}`, options);
        return undefined;
      }
      return def.toInitOptions(def.parse(options, `method "${method}", protocol ${def.kind}`));
    },
    resolve: (o) => def.toInitOptions(def.fromInitOptions(o)),
    label: (o) => def.label(def.fromInitOptions(o)),
    start: (o) => def.fromInitOptions(o),
  };
}
