// Small inline-SVG charts: no library, no build step.
const NS = 'http://www.w3.org/2000/svg';

function el(name, attrs = {}, text) {
  const node = document.createElementNS(NS, name);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
  if (text !== undefined) node.textContent = text;
  return node;
}

function fmtX(x, isTime) {
  if (!isTime) return String(Math.round(x));
  const d = new Date(x);
  return `${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')} ${String(d.getHours()).padStart(2, '0')}:${String(d.getMinutes()).padStart(2, '0')}`;
}

/**
 * A line chart of one or more series: [{ name, color, points: [{x, y}], dashed? }], with optional vertical
 * markers [{ x, label }] (e.g. when a response began). Returns an <svg> element; x may be epoch ms (isTime) or an index.
 */
export function lineChart(series, { isTime = false, width = 560, height = 220, yLabel = '', markers = [] } = {}) {
  const svg = el('svg', { viewBox: `0 0 ${width} ${height}`, class: 'chart', role: 'img' });
  const all = series.flatMap((s) => s.points);
  if (all.length === 0) {
    svg.append(el('text', { x: width / 2, y: height / 2, 'text-anchor': 'middle' }, '无数据 no data'));
    return svg;
  }
  const pad = { l: 44, r: 12, t: 12, b: 28 };
  const xs = all.map((p) => p.x);
  const ys = all.map((p) => p.y);
  let [x0, x1] = [Math.min(...xs), Math.max(...xs)];
  if (x0 === x1) [x0, x1] = [x0 - 1, x1 + 1];
  const y1 = Math.max(1, ...ys) * 1.1;
  const sx = (x) => pad.l + ((x - x0) / (x1 - x0)) * (width - pad.l - pad.r);
  const sy = (y) => height - pad.b - (y / y1) * (height - pad.t - pad.b);
  for (let i = 0; i <= 4; i++) {
    const y = (y1 * i) / 4;
    svg.append(el('line', { x1: pad.l, x2: width - pad.r, y1: sy(y), y2: sy(y), stroke: '#eceff4' }));
    svg.append(el('text', { x: pad.l - 6, y: sy(y) + 4, 'text-anchor': 'end' }, y >= 100 ? Math.round(y) : y.toFixed(1)));
  }
  // The end labels are anchored inward so they are not clipped at the chart's edges.
  const ticks = [[x0, 'start'], [(x0 + x1) / 2, 'middle'], [x1, 'end']];
  for (const [x, anchor] of ticks) {
    svg.append(el('text', { x: sx(x), y: height - 8, 'text-anchor': anchor }, fmtX(x, isTime)));
  }
  if (yLabel) svg.append(el('text', { x: pad.l, y: pad.t - 2 }, yLabel));
  for (const m of markers) {
    if (!(m.x >= x0 && m.x <= x1)) continue;
    svg.append(el('line', { x1: sx(m.x), x2: sx(m.x), y1: pad.t, y2: height - pad.b, stroke: '#8a6d00', 'stroke-dasharray': '3 3', class: 'marker' }));
    svg.append(el('text', { x: sx(m.x) + 4, y: pad.t + 10, fill: '#8a6d00' }, m.label));
  }
  for (const s of series) {
    const pts = [...s.points].sort((a, b) => a.x - b.x);
    const d = pts.map((p, i) => `${i === 0 ? 'M' : 'L'}${sx(p.x).toFixed(1)},${sy(p.y).toFixed(1)}`).join(' ');
    svg.append(el('path', { d, fill: 'none', stroke: s.color, 'stroke-width': 2, ...(s.dashed ? { 'stroke-dasharray': '5 4' } : {}) }));
    for (const p of pts) {
      const dot = el('circle', { cx: sx(p.x), cy: sy(p.y), r: 3, fill: s.color });
      dot.append(el('title', {}, `${s.name}: ${p.y} @ ${fmtX(p.x, isTime)}`));
      svg.append(dot);
    }
  }
  return svg;
}

/** A legend row for the series of a chart. */
export function legend(series) {
  const div = document.createElement('div');
  div.className = 'legend';
  for (const s of series) {
    const span = document.createElement('span');
    const swatch = document.createElement('i');
    swatch.style.background = s.color;
    span.append(swatch, s.name);
    div.append(span);
  }
  return div;
}
