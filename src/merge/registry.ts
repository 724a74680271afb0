import { fail } from '../params/errors.js';
import { didYouMean } from '../params/did-you-mean.js';
import { arceeFusion } from './arcee-fusion.js';
import { breadcrumbs, breadcrumbsTies } from './breadcrumbs.js';
import { dareLinear, dareTies } from './dare.js';
import { dop } from './dop.js';
import { della, dellaLinear } from './della.js';
import { isoC } from './iso-c.js';
import { isoCts } from './iso-cts.js';
import { karcher } from './karcher.js';
import { magmax } from './magmax.js';
import { modelStock } from './model-stock.js';
import { nearswap } from './nearswap.js';
import { multislerp } from './multislerp.js';
import { nuslerp } from './nuslerp.js';
import { opcm } from './opcm.js';
import { passthrough } from './passthrough.js';
import { ram } from './ram.js';
import { ramplusTl } from './ramplus-tl.js';
import { randomSelection } from './random-selection.js';
import { sce } from './sce.js';
import { slerp } from './slerp.js';
import { tallMasks } from './tall-masks.js';
import { taskArithmetic } from './task-arithmetic.js';
import { ties } from './ties.js';
import { tsvM } from './tsv-m.js';
import type { MergeTechnique } from './types.js';
import { weightedAverage } from './weighted-average.js';

// One entry per technique; each lives in its own file. Names are kebab-case; aliases cover the spellings
// of mergekit, FusionBench and fomo_in_flux.
const TECHNIQUES: readonly MergeTechnique<any>[] = [
  weightedAverage,
  taskArithmetic,
  ties,
  dareLinear,
  dareTies,
  breadcrumbs,
  breadcrumbsTies,
  magmax,
  modelStock,
  slerp,
  randomSelection,
  della,
  dellaLinear,
  sce,
  karcher,
  nuslerp,
  multislerp,
  passthrough,
  tallMasks,
  arceeFusion,
  nearswap,
  ram,
  ramplusTl,
  tsvM,
  isoC,
  isoCts,
  opcm,
  dop,
];

const byName = new Map<string, MergeTechnique<any>>();
for (const t of TECHNIQUES) {
  for (const key of [t.name, ...(t.aliases ?? [])]) {
    if (byName.has(key)) throw new Error(`duplicate technique name ${key}`);
    byName.set(key, t);
  }
}

export function listTechniques(): readonly MergeTechnique<any>[] {
  return TECHNIQUES;
}

export function getTechnique(name: string): MergeTechnique<any> {
  const t = byName.get(name);
  if (!t)
    fail(
      'CONFIG',
      `unknown merge technique "${name}"${didYouMean(name, [...byName.keys()])} (known: ${TECHNIQUES.map((x) => x.name).join(', ')})`,
    );
  return t;
}
