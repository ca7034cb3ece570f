// The indicator detail's trend chart (detail.ts): the last periods' values as a line with
// gaps where there is no data, and the target as a dashed line; ECharts, loaded with the
// detail's first opening (the overview boards share the library's chunk).

import * as echarts from 'echarts/core';
import { LineChart } from 'echarts/charts';
import { GridComponent, MarkLineComponent, TooltipComponent } from 'echarts/components';
import { CanvasRenderer } from 'echarts/renderers';

echarts.use([LineChart, GridComponent, MarkLineComponent, TooltipComponent, CanvasRenderer]);

const FONT = "'Noto Sans CJK SC', 'Microsoft YaHei', sans-serif";
const TEXT = '#cfe8ff';

/** Draws (or redraws) the trend into `el`. */
export function drawTrend(el: HTMLElement, labels: string[], values: (number | null)[], target: number | null, name: string): void {
  const chart = echarts.getInstanceByDom(el) ?? echarts.init(el, undefined, { renderer: 'canvas' });
  const scale = Math.max(0.5, window.innerWidth / 1920);
  const f = (px: number) => Math.round(px * scale);
  chart.setOption(
    {
      textStyle: { fontFamily: FONT, color: TEXT, fontSize: f(14) },
      animation: false,
      grid: { left: f(56), right: f(20), top: f(20), bottom: f(28) },
      tooltip: { trigger: 'axis' },
      xAxis: { type: 'category', data: labels, axisLabel: { color: TEXT, fontSize: f(12) }, axisLine: { lineStyle: { color: '#3a5a7a' } } },
      yAxis: { type: 'value', scale: true, axisLabel: { color: TEXT, fontSize: f(12) }, splitLine: { lineStyle: { color: '#1d3550' } } },
      series: [
        {
          name,
          type: 'line',
          data: values,
          connectNulls: false,
          symbolSize: f(7),
          lineStyle: { width: f(2), color: '#40a9ff' },
          itemStyle: { color: '#40a9ff' },
          markLine:
            target === null
              ? undefined
              : { symbol: 'none', silent: true, lineStyle: { type: 'dashed', color: '#ffd666' }, label: { color: '#ffd666' }, data: [{ yAxis: target }] },
        },
      ],
    },
    true,
  );
}
