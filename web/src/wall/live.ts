// The wall's live stream: one connection with a subscription per channel (cases, devices,
// alarms, statistics, indicators), each handed to the part of the wall that keeps it. The
// stream starts at once; the wall's first state comes over REST (wall.ts).

import type { Api } from '../shared/api';
import { LiveClient, type LiveStatus } from '../shared/live/client';
import type { CatalogueTiles } from './catalogue';
import type { Indicators } from './indicators';
import type { SensorStore } from './sensors';

/** Where each channel's messages go. */
export interface LiveTargets {
  /** The cases channel's snapshot (the newest cases) and whether changes were missed. */
  caseSnapshot: (items: unknown[], afterNotRecovered: boolean) => void;
  caseDelta: (d: unknown) => void;
  sensors: SensorStore;
  indicators: Indicators;
  /** The catalogue's `value:`, `alarm:` and `catalogue:` entries of the indicators channel. */
  catalogue: CatalogueTiles;
  /** The figures changed (or may have, after missed changes): ask for them again. */
  statsChanged: () => void;
  status: (s: LiveStatus) => void;
}

/** Opens the stream with the wall's subscriptions; the session renews itself. */
export function connect(api: Api, to: LiveTargets): LiveClient {
  const live = new LiveClient({
    token: () => api.freshToken(),
    renewSession: async () => {
      await api.refresh();
    },
    onStatus: to.status,
  });
  live.subscribe({
    channel: 'cases',
    onSnapshot: (items, afterNotRecovered) => to.caseSnapshot(items, afterNotRecovered),
    onDelta: (d) => to.caseDelta(d),
  });
  live.subscribe({
    channel: 'devices',
    onSnapshot: (items) => to.sensors.deviceSnapshot(items),
    onDelta: (d) => to.sensors.deviceDelta(d),
  });
  live.subscribe({
    channel: 'alarms',
    onSnapshot: (items) => to.sensors.alarmSnapshot(items),
    onDelta: (d) => to.sensors.alarmDelta(d),
  });
  live.subscribe({
    channel: 'statistics',
    // The first snapshot says nothing the REST load at start does not: only a snapshot
    // after `not_recovered` (changes were missed) asks for the figures again.
    onSnapshot: (_items, afterNotRecovered) => afterNotRecovered && to.statsChanged(),
    onDelta: () => to.statsChanged(),
  });
  live.subscribe({
    channel: 'indicators',
    filter: {},
    onSnapshot: (items, afterNotRecovered) => {
      to.indicators.snapshot(items);
      // Catalogue values and alarms missed: read again.
      if (afterNotRecovered) void to.catalogue.load();
    },
    onDelta: (d, key, op) => {
      to.indicators.delta(d, op);
      to.catalogue.delta(d, key);
    },
  });
  live.start();
  return live;
}
