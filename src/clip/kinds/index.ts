/**
 * CLIP's run kinds, implementations of the study driver's RunKind (src/study/kinds/index.ts). They live
 * here, above the study layer, so that src/study never imports src/clip; each is loaded when used (the
 * tfjs kind pulls in TensorFlow.js).
 */
export const CLIP_RUN_KINDS = {
  'clip-tfjs': async () => (await import('./tfjs.js')).clipTfjsKind,
  'clip-torch': async () => (await import('./torch.js')).clipTorchKind,
} as const;
