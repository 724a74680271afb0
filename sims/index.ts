import { fail } from '../src/params/errors.js';
import { didYouMean } from '../src/params/did-you-mean.js';
import type { Study } from '../src/study/types.js';
import { defaultStudy } from './default.js';
import { bestInTime, offlineVsContinual, scalingCompute, scalingHorizon, scalingModel, techniqueSettings, techniqueSpread, timeAwareOffline } from './findings.js';

export type { Study } from '../src/study/types.js';

/** Every study `time-merge sim` knows, by name. */
export const STUDIES: readonly Study[] = [
  defaultStudy,
  offlineVsContinual,
  timeAwareOffline,
  techniqueSpread,
  bestInTime,
  scalingModel,
  scalingCompute,
  scalingHorizon,
  techniqueSettings,
];

export function getStudy(name: string): Study {
  const s = STUDIES.find((x) => x.name === name);
  if (!s) fail('CONFIG', `unknown study "${name}"${didYouMean(name, STUDIES.map((x) => x.name))} (known: ${STUDIES.map((x) => x.name).join(', ')})`);
  return s;
}
