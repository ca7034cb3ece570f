// The overview board: trends by day, week or month, the two rates, cases by category and
// source, and the street ranking, drawn with ECharts (canvas) and sized for the wall. Each
// chart's element carries what it draws in `data-series` (JSON), for tests to read.

import * as echarts from 'echarts/core';
import { BarChart, GaugeChart, LineChart, PieChart } from 'echarts/charts';
import { GridComponent, LegendComponent, TooltipComponent } from 'echarts/components';
import { CanvasRenderer } from 'echarts/renderers';

echarts.use([BarChart, GaugeChart, LineChart, PieChart, GridComponent, LegendComponent, TooltipComponent, CanvasRenderer]);

const FONT = "'Noto Sans CJK SC', 'Microsoft YaHei', sans-serif";
const TEXT = '#cfe8ff';
const PALETTE = ['#40a9ff', '#36cfc9', '#ffd666', '#ff7a45', '#b37feb', '#73d13d', '#ff85c0', '#5cdbd3'];

export class Charts {
  private readonly charts = new Map<string, echarts.ECharts>();

  constructor(private readonly scale: number) {
    window.addEventListener('resize', () => this.charts.forEach((c) => c.resize()));
  }

  private chart(el: HTMLElement): echarts.ECharts {
    let c = this.charts.get(el.id);
    if (c && c.getDom() !== el) {
      // The panel was redrawn (a language switch): the old chart's element is gone.
      c.dispose();
      c = undefined;
    }
    if (!c) {
      c = echarts.init(el, undefined, { renderer: 'canvas' });
      this.charts.set(el.id, c);
    }
    return c;
  }

  private f(px: number): number {
    return Math.round(px * this.scale);
  }

  trend(el: HTMLElement, labels: string[], created: number[], closed: number[], names: [string, string]): void {
    el.dataset.series = JSON.stringify({ labels, created, closed });
    this.chart(el).setOption(
      {
        textStyle: { fontFamily: FONT, color: TEXT, fontSize: this.f(14) },
        color: ['#40a9ff', '#73d13d'],
        animation: false,
        grid: { left: this.f(40), right: this.f(12), top: this.f(34), bottom: this.f(26) },
        legend: { top: 0, right: 0, textStyle: { color: TEXT, fontSize: this.f(14) }, itemWidth: this.f(16), itemHeight: this.f(8) },
        xAxis: { type: 'category', data: labels, axisLabel: { color: TEXT, fontSize: this.f(13) }, axisLine: { lineStyle: { color: '#3a5a7a' } } },
        yAxis: { type: 'value', minInterval: 1, axisLabel: { color: TEXT, fontSize: this.f(13) }, splitLine: { lineStyle: { color: '#1d3550' } } },
        series: [
          { name: names[0], type: 'line', smooth: true, data: created, areaStyle: { opacity: 0.18 }, symbolSize: this.f(5), lineStyle: { width: this.f(2) } },
          { name: names[1], type: 'line', smooth: true, data: closed, symbolSize: this.f(5), lineStyle: { width: this.f(2) } },
        ],
      },
      true,
    );
  }

  gauge(el: HTMLElement, title: string, percent: number | null, colour: string): void {
    this.chart(el).setOption(
      {
        textStyle: { fontFamily: FONT },
        animation: false,
        series: [
          {
            type: 'gauge',
            startAngle: 220,
            endAngle: -40,
            radius: '92%',
            center: ['50%', '58%'],
            min: 0,
            max: 100,
            progress: { show: true, width: this.f(12), itemStyle: { color: colour } },
            axisLine: { lineStyle: { width: this.f(12), color: [[1, '#1d3550']] } },
            axisTick: { show: false },
            splitLine: { show: false },
            axisLabel: { show: false },
            pointer: { show: false },
            title: { offsetCenter: [0, '62%'], color: TEXT, fontSize: this.f(15) },
            detail: {
              offsetCenter: [0, '0%'],
              valueAnimation: false,
              fontSize: this.f(28),
              fontWeight: 'bold',
              color: '#ffffff',
              formatter: percent === null ? '—' : '{value}%',
            },
            data: [{ value: percent === null ? 0 : Math.round(percent * 10) / 10, name: title }],
          },
        ],
      },
      true,
    );
  }

  pie(el: HTMLElement, data: { name: string; value: number }[]): void {
    el.dataset.series = JSON.stringify({ labels: data.map((d) => d.name), values: data.map((d) => d.value) });
    this.chart(el).setOption(
      {
        textStyle: { fontFamily: FONT, color: TEXT },
        color: PALETTE,
        animation: false,
        legend: {
          orient: 'vertical',
          right: 0,
          top: 'middle',
          textStyle: { color: TEXT, fontSize: this.f(13) },
          itemWidth: this.f(12),
          itemHeight: this.f(12),
        },
        series: [
          {
            type: 'pie',
            radius: ['45%', '78%'],
            center: ['32%', '50%'],
            label: { show: false },
            data,
          },
        ],
      },
      true,
    );
  }

  bars(el: HTMLElement, names: string[], values: number[], colour: string): void {
    el.dataset.series = JSON.stringify({ labels: names, values });
    this.chart(el).setOption(
      {
        textStyle: { fontFamily: FONT, color: TEXT },
        animation: false,
        grid: { left: this.f(96), right: this.f(36), top: this.f(4), bottom: this.f(4) },
        xAxis: { type: 'value', show: false },
        yAxis: {
          type: 'category',
          inverse: true,
          data: names,
          axisLabel: { color: TEXT, fontSize: this.f(14) },
          axisLine: { show: false },
          axisTick: { show: false },
        },
        series: [
          {
            type: 'bar',
            data: values,
            barWidth: '62%',
            itemStyle: { color: colour, borderRadius: [0, this.f(3), this.f(3), 0] },
            label: { show: true, position: 'right', color: '#ffffff', fontSize: this.f(13) },
          },
        ],
      },
      true,
    );
  }
}
