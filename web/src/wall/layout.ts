// The wall's screen as HTML: header, today and overview panels on the left, the map with
// its breadcrumb, search, region panel, layer switches, legend and case card in the
// centre, the feed, the catalogue's indicators and rankings on the right. Element ids are what wall.ts fills in.

import { currentLanguage } from '../shared/language';
import { statusName } from '../shared/casewords';
import { t } from './words';
import { legendHtml } from './indicators';
import { catalogueHtml } from './catalogue';
import type { LayerGroup } from './map';
import './layout.css';

export function layoutHtml(visible: Record<LayerGroup, boolean>): string {
  const layerButtons: [LayerGroup, Parameters<typeof t>[0]][] = [
    ['cases', 'layerCases'],
    ['heat', 'layerHeat'],
    ['cameras', 'layerCameras'],
    ['resources', 'layerResources'],
    ['keyAreas', 'layerKeyAreas'],
    ['blindSpots', 'layerBlindSpots'],
    ['devices', 'layerDevices'],
    ['grids', 'layerGrids'],
    ['alarms', 'layerAlarms'],
    ['rating', 'layerRating'],
  ];
  return `
      <div class="wall">
        <header class="top">
          <div class="title"><span class="emblem"></span>${t('title')}<small>${t('subtitle')}</small></div>
          <div class="top-right">
            <span id="live-status" class="live-status" data-test="live-status"></span>
            <span id="clock" class="clock"></span>
            <button id="lang" class="lang" data-test="lang">${currentLanguage() === 'zh' ? 'EN' : '中文'}</button>
          </div>
        </header>
        <aside class="left">
          <section class="panel today">
            <h2>${t('today')}</h2>
            <div class="tiles">
              <div class="tile"><b id="today-new">—</b><span>${t('newToday')}</span></div>
              <div class="tile"><b id="today-progress">—</b><span>${t('inProgress')}</span></div>
              <div class="tile"><b id="today-closed">—</b><span>${t('handledToday')}</span></div>
              <div class="tile alert"><b id="today-overdue">—</b><span>${t('overdue')}</span></div>
            </div>
            <div class="minor">
              <div><span>${t('complaints')}</span><b id="today-complaints">—</b></div>
              <div class="alert"><span>${t('deviceAlarms')}</span><b id="today-alarms">—</b></div>
              <div class="nosrc"><span>${t('risks')}</span><b id="today-risks" data-test="today-risks">${t('noSource')}</b></div>
              <div class="nosrc"><span>${t('hazards')}</span><b id="today-hazards" data-test="today-hazards">${t('noSource')}</b></div>
              <div class="alert"><span>${t('alarmedIndicators')}</span><b id="today-indicators" data-test="today-alarmed-indicators">—</b></div>
            </div>
          </section>
          <section class="panel overview">
            <h2>${t('overview')}
              <span class="spans">
                <button data-span="day" data-test="span-day" class="on">${t('day')}</button><button data-span="week" data-test="span-week">${t('week')}</button><button data-span="month" data-test="span-month">${t('month')}</button>
              </span>
            </h2>
            <h3>${t('trend')}</h3>
            <div id="chart-trend" class="chart trend" data-test="chart-trend"></div>
            <h3>${t('indicators')}<small id="indicators-window"></small></h3>
            <div id="indicator-tiles" class="ind-tiles" data-test="indicator-tiles"></div>
            <div class="gauges">
              <div id="chart-ontime" class="chart gauge"></div>
              <div id="chart-satisfaction" class="chart gauge"></div>
            </div>
            <h3>${t('byCategory')}</h3>
            <div id="chart-category" class="chart pie" data-test="chart-category"></div>
          </section>
        </aside>
        <main class="centre">
          <div id="map" class="map"></div>
          <div class="map-top">
            <nav id="breadcrumb" class="breadcrumb" data-test="breadcrumb"></nav>
            <div class="search">
              <input id="search" data-test="search" placeholder="${t('search')}" autocomplete="off" />
              <ul id="search-results" class="results" data-test="search-results"></ul>
            </div>
          </div>
          <section id="region" class="region-panel" data-test="region-panel"></section>
          <div class="layers" id="layers" data-test="layers">
            ${layerButtons
              .map(
                ([key, label]) =>
                  `<button class="layer ${visible[key] ? 'on' : ''}" data-layer="${key}" data-test="layer-${key}">${t(label)}</button>`,
              )
              .join('')}
          </div>
          <div class="legend" id="legend-box" data-test="legend">
            <span><i style="background:#ff5c5c"></i>${statusName('new')}</span>
            <span><i style="background:#ffa940"></i>${statusName('dispatched')}</span>
            <span><i style="background:#40a9ff"></i>${statusName('in_progress')}</span>
            <span><i style="background:#b37feb"></i>${statusName('handled')}</span>
            <span><i style="background:#73d13d"></i>${statusName('closed')}</span>
            <span><i class="ring"></i>${t('overdue')}</span>
            <span><i class="dot" style="background:#52c41a"></i>${t('healthOnline')}</span>
            <span><i class="dot" style="background:#faad14"></i>${currentLanguage() === 'zh' ? '设备预警' : 'device warning'}</span>
            <span><i class="dot" style="background:#ff4d4f"></i>${t('healthAbnormal')}</span>
            <span><i class="dot" style="background:#8c8c8c"></i>${t('healthOffline')}</span>
            ${legendHtml(visible.rating)}
          </div>
          <section id="areas" class="area-list hidden" data-test="area-list"></section>
          <section id="card" class="card hidden" data-test="card"></section>
        </main>
        <aside class="right">
          <section class="panel feed">
            <h2>${t('feed')}
              <span class="filters">
                <select id="filter-source" data-test="feed-filter-source"><option value="">${t('allSources')}</option></select>
                <select id="filter-domain" data-test="feed-filter-domain"><option value="">${t('allDomains')}</option></select>
              </span>
            </h2>
            <ul id="feed" class="feed-list" data-test="feed"></ul>
          </section>
          ${catalogueHtml()}
          <section class="panel">
            <h2>${t('bySource')}</h2>
            <div id="chart-source" class="chart sources" data-test="chart-source"></div>
          </section>
          <section class="panel">
            <h2>${t('streetRanking')}</h2>
            <div id="chart-ranking" class="chart ranking" data-test="chart-ranking"></div>
          </section>
        </aside>
      </div>`;
}
