// A small bar chart in inline SVG (no chart library): one group of bars per label, one bar
// per series, a scale on the left, the series named below. Colours come from console.css.

import type { JSX } from "preact";

export interface Series {
  name: string;
  values: number[];
}

const W = 640;
const H = 220;
const LEFT = 60;
const BOTTOM = 34;
const TOP = 10;

/** 1, 2 or 5 times a power of ten, at least `value`: the scale's top. */
function niceTop(value: number): number {
  if (value <= 0) return 1;
  const power = 10 ** Math.floor(Math.log10(value));
  return ([1, 2, 5, 10].find((step) => step * power >= value) ?? 10) * power;
}

interface Props {
  title: string; // for screen readers: the card above names the chart
  caption: string;
  labels: string[];
  series: Series[];
  testid: string;
}

export function BarChart(props: Props): JSX.Element {
  const { labels, series } = props;
  const top = niceTop(Math.max(0, ...series.flatMap((s) => s.values)));
  const plotW = W - LEFT - 8;
  const plotH = H - TOP - BOTTOM;
  const group = plotW / Math.max(1, labels.length);
  const bar = Math.min(44, (group * 0.8) / Math.max(1, series.length));
  const inset = (group - bar * series.length) / 2; // the group's bars centred on its label
  const y = (v: number): number => TOP + plotH - (Math.max(0, v) / top) * plotH;
  const every = Math.max(1, Math.ceil(labels.length / 8)); // at most 8 labels under the axis
  return (
    <figure class="chart" data-testid={props.testid}>
      <figcaption>{props.caption}</figcaption>
      {labels.length === 0 ? (
        <p class="hint">Nothing in this period.</p>
      ) : (
        <svg viewBox={`0 0 ${W} ${H}`} role="img" aria-label={props.title}>
          {[0, 0.5, 1].map((f) => (
            <g key={f} class="tick">
              <line x1={LEFT} x2={W - 8} y1={y(top * f)} y2={y(top * f)} />
              <text x={LEFT - 6} y={y(top * f) + 4} text-anchor="end">{+(top * f).toPrecision(3)}</text>
            </g>
          ))}
          {labels.map((label, i) => (
            <g key={label} class="group" data-group={label}>
              {series.map((s, j) => {
                const v = s.values[i] ?? 0;
                return (
                  <rect key={s.name} class={`bar s${j}`} x={LEFT + i * group + inset + j * bar}
                    y={y(v)} width={Math.max(1, bar - 1)} height={TOP + plotH - y(v)}>
                    <title>{`${label}, ${s.name}: ${v}`}</title>
                  </rect>
                );
              })}
              {i % every === 0 && (
                <text class="label" x={LEFT + i * group + group / 2} y={H - BOTTOM + 16} text-anchor="middle">
                  {label.length > 14 ? `${label.slice(0, 13)}…` : label}
                </text>
              )}
            </g>
          ))}
        </svg>
      )}
      <ul class="legend">
        {series.map((s, j) => <li key={s.name}><span class={`swatch s${j}`} />{s.name}</li>)}
      </ul>
    </figure>
  );
}
