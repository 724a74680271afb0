/** Headless rendering: vega-lite spec -> vega -> SVG (no canvas, no browser), SVG -> PNG with resvg. */
import { Resvg } from '@resvg/resvg-js';
import * as vega from 'vega';
import * as vegaLite from 'vega-lite';
import type { TopLevelSpec } from 'vega-lite';
import { TimeMergeError } from '../params/errors.js';
import { normalizeSvgIds } from './svg.js';

export const FONT_FAMILY = 'DejaVu Sans, Liberation Sans, Arial, sans-serif';

/** Shared look of every figure; fonts named so resvg finds the same system font the browser uses. */
export const CHART_CONFIG = {
  font: FONT_FAMILY,
  background: 'white',
  view: { stroke: '#ccc' },
  axis: { labelFontSize: 11, titleFontSize: 12, gridColor: '#e8e8e8' },
  legend: { labelFontSize: 11, titleFontSize: 12, labelLimit: 400, titleLimit: 400 },
  title: { fontSize: 14, anchor: 'start' as const },
};

export async function renderSvg(spec: TopLevelSpec, figure: string): Promise<string> {
  let view: vega.View | undefined;
  try {
    const compiled = vegaLite.compile({
      ...spec,
      config: { ...CHART_CONFIG, ...(spec.config ?? {}) },
    } as TopLevelSpec).spec;
    // renderer 'none': no canvas or DOM; toSVG builds the scenegraph and serialises it.
    view = new vega.View(vega.parse(compiled), { renderer: 'none', logLevel: vega.Error });
    return normalizeSvgIds(await view.toSVG());
  } catch (err) {
    throw new TimeMergeError('PIPELINE', `figure ${figure}: vega could not render it (${(err as Error).message})`, {
      cause: err,
    });
  } finally {
    view?.finalize();
  }
}

/** PNG at `scale` times the SVG's size, with system fonts (text is drawn, not dropped). */
export function svgToPng(svg: string, scale = 2): Buffer {
  const resvg = new Resvg(svg, {
    fitTo: { mode: 'zoom', value: scale },
    background: 'white',
    font: { loadSystemFonts: true, defaultFontFamily: 'DejaVu Sans' },
  });
  return resvg.render().asPng();
}
