/** 'fresh', 'stale' (a source file is newer) or 'missing', for the checkout at `root`. */
export function distState(root: string): 'fresh' | 'stale' | 'missing';
