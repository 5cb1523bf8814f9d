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

function fmtBucket(ms, interval) {
  const d = new Date(ms);
  const md = `${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')}`;
  return interval === 'hour' ? `${md} ${String(d.getHours()).padStart(2, '0')}:00` : md;
}

/**
 * Volume as bars (left axis, posts per bucket) and negative share as a line (right axis, 0–100 %), over
 * buckets [{ start, count, negative, negativeShare }]. Hovering a bar shows its figures.
 */
export function volumeShareChart(buckets, { interval = 'hour', width = 760, height = 240 } = {}) {
  const svg = el('svg', { viewBox: `0 0 ${width} ${height}`, class: 'chart volume-share', role: 'img' });
  if (buckets.length === 0) {
    svg.append(el('text', { x: width / 2, y: height / 2, 'text-anchor': 'middle' }, '无数据 no data'));
    return svg;
  }
  const pad = { l: 44, r: 40, t: 14, b: 28 };
  const innerW = width - pad.l - pad.r;
  const innerH = height - pad.t - pad.b;
  const top = Math.max(1, ...buckets.map((b) => b.count)) * 1.1;
  const step = innerW / buckets.length;
  const sy = (n) => height - pad.b - (n / top) * innerH;
  const sp = (share) => height - pad.b - share * innerH;
  for (let i = 0; i <= 4; i++) {
    const n = (top * i) / 4;
    svg.append(el('line', { x1: pad.l, x2: width - pad.r, y1: sy(n), y2: sy(n), stroke: '#eceff4' }));
    svg.append(el('text', { x: pad.l - 6, y: sy(n) + 4, 'text-anchor': 'end' }, n >= 10 ? Math.round(n) : n.toFixed(1)));
    svg.append(el('text', { x: width - pad.r + 6, y: sp(i / 4) + 4, fill: '#8e24aa' }, `${i * 25}%`));
  }
  buckets.forEach((b, i) => {
    const x = pad.l + i * step;
    const bar = el('rect', { x: x + step * 0.12, y: sy(b.count), width: Math.max(1, step * 0.76), height: height - pad.b - sy(b.count), fill: '#90a4c8', class: 'bar', 'data-start': b.start, 'data-count': b.count });
    bar.append(el('title', {}, `${fmtBucket(Date.parse(b.start), interval)}  ${b.count} 条, 负面 ${b.negative} (${Math.round(b.negativeShare * 100)}%)`));
    svg.append(bar);
  });
  // A bucket without posts has no share: the line breaks there instead of dropping to 0 %.
  let d = '';
  let pen = 'M';
  buckets.forEach((b, i) => {
    if (b.count === 0) {
      pen = 'M';
      return;
    }
    d += `${pen}${(pad.l + (i + 0.5) * step).toFixed(1)},${sp(b.negativeShare).toFixed(1)} `;
    pen = 'L';
  });
  svg.append(el('path', { d: d.trim() || 'M0,0', fill: 'none', stroke: '#8e24aa', 'stroke-width': 2, class: 'share' }));
  const every = Math.max(1, Math.ceil(buckets.length / 8));
  buckets.forEach((b, i) => {
    if (i % every !== 0) return;
    svg.append(el('text', { x: pad.l + (i + 0.5) * step, y: height - 8, 'text-anchor': 'middle' }, fmtBucket(Date.parse(b.start), interval)));
  });
  return svg;
}
