/** A small SVG line chart (p99 latency against offered load), with no dependencies. */

/** One line of the chart. */
export interface Series {
  name: string;
  points: Array<{ x: number; y: number }>;
}

const palette = ["#d62728", "#1f77b4", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf"];

/** An SVG chart: linear x, logarithmic y (latencies span orders of magnitude). */
export function lineChart(title: string, xLabel: string, yLabel: string, series: Series[]): string {
  const w = 760;
  const h = 420;
  const m = { left: 70, right: 190, top: 40, bottom: 50 };
  const all = series.flatMap((s) => s.points).filter((p) => p.y > 0 && Number.isFinite(p.x));
  if (all.length === 0)
    return `<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="60"><text x="10" y="30">${title}: no data</text></svg>`;
  const xMax = Math.max(...all.map((p) => p.x)) * 1.05;
  const yMin = Math.max(0.01, Math.min(...all.map((p) => p.y)) / 1.5);
  const yMax = Math.max(...all.map((p) => p.y)) * 1.5;
  const px = (x: number) => m.left + (x / xMax) * (w - m.left - m.right);
  const py = (y: number) => {
    const t = (Math.log10(y) - Math.log10(yMin)) / (Math.log10(yMax) - Math.log10(yMin));
    return h - m.bottom - t * (h - m.top - m.bottom);
  };
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="${h}" font-family="sans-serif" font-size="12">`,
    `<rect width="${w}" height="${h}" fill="white"/>`,
    `<text x="${w / 2 - m.right / 2}" y="22" text-anchor="middle" font-size="14">${title}</text>`,
    `<line x1="${m.left}" y1="${h - m.bottom}" x2="${w - m.right}" y2="${h - m.bottom}" stroke="black"/>`,
    `<line x1="${m.left}" y1="${m.top}" x2="${m.left}" y2="${h - m.bottom}" stroke="black"/>`,
    `<text x="${(m.left + w - m.right) / 2}" y="${h - 12}" text-anchor="middle">${xLabel}</text>`,
    `<text x="16" y="${(m.top + h - m.bottom) / 2}" text-anchor="middle" transform="rotate(-90 16 ${(m.top + h - m.bottom) / 2})">${yLabel}</text>`,
  ];
  for (let i = 0; i <= 5; i++) {
    const x = (xMax / 5) * i;
    parts.push(
      `<text x="${px(x)}" y="${h - m.bottom + 16}" text-anchor="middle">${Math.round(x).toLocaleString("en")}</text>`,
    );
  }
  for (let e = Math.floor(Math.log10(yMin)); e <= Math.ceil(Math.log10(yMax)); e++) {
    const y = 10 ** e;
    if (y < yMin || y > yMax) continue;
    parts.push(
      `<line x1="${m.left}" y1="${py(y)}" x2="${w - m.right}" y2="${py(y)}" stroke="#ddd"/>`,
      `<text x="${m.left - 6}" y="${py(y) + 4}" text-anchor="end">${y}</text>`,
    );
  }
  series.forEach((s, i) => {
    const color = palette[i % palette.length]!;
    const pts = s.points.filter((p) => p.y > 0).sort((a, b) => a.x - b.x);
    if (pts.length > 0) {
      parts.push(
        `<polyline fill="none" stroke="${color}" stroke-width="2" points="${pts.map((p) => `${px(p.x).toFixed(1)},${py(p.y).toFixed(1)}`).join(" ")}"/>`,
        ...pts.map(
          (p) => `<circle cx="${px(p.x).toFixed(1)}" cy="${py(p.y).toFixed(1)}" r="3" fill="${color}"/>`,
        ),
      );
    }
    parts.push(
      `<rect x="${w - m.right + 14}" y="${m.top + i * 20}" width="12" height="12" fill="${color}"/>`,
      `<text x="${w - m.right + 32}" y="${m.top + i * 20 + 10}">${s.name}</text>`,
    );
  });
  parts.push("</svg>");
  return parts.join("\n");
}
