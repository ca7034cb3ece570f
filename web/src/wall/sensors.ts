// The wall's sensors: every registered device with its latest state (the `devices` live
// channel) and the alarms that are active (the `alarms` channel), reduced to what the map
// draws — each device coloured by its health, each device alarm a ring at its device.
//
// Health, as the server's `GET /api/devices/health` names it: `abnormal` while a major or
// critical alarm is active, `warning` while a lesser one is, `offline` when the device said
// so (its last will) or has never been heard, `online` otherwise.

import type { Feature, FeatureCollection } from 'geojson';
import type { Device } from './types';

export type Health = 'online' | 'warning' | 'abnormal' | 'offline';

interface DeviceState {
  online: boolean;
}

/** An alarm as the wall keeps it: the device it is on, and how severe. */
export interface ActiveAlarm {
  device: string;
  rule: string;
  severity: string;
}

const SEVERE = new Set(['major', 'critical']);

/** An `alarms` item or delta: a device alarm's step, or null for what is not one (a case's
 *  deadline warning travels on the same channel). `active` is false once it cleared. */
export function deviceAlarm(data: unknown): (ActiveAlarm & { active: boolean }) | null {
  const d = data as { change?: string; alarm?: Record<string, unknown> } | null;
  const a = d?.alarm;
  if (!d || !a || typeof d.change !== 'string') return null;
  const key = a.key as { device?: string; rule?: string } | undefined;
  const device = key?.device ?? (a.device_id as string | undefined);
  const rule = key?.rule ?? (a.rule_id as string | undefined);
  if (typeof device !== 'string' || typeof rule !== 'string') return null;
  const active = d.change === 'cleared' ? false : d.change === 'acknowledged' ? a.state !== 'cleared' : true;
  return { device, rule, severity: String(a.severity ?? 'warning'), active };
}

export class SensorStore {
  private readonly devices = new Map<string, Device>();
  private readonly states = new Map<string, DeviceState>();
  /** Active device alarms by `device/rule`. */
  private readonly alarms = new Map<string, ActiveAlarm>();
  /** Called (at most once a second) when what the map draws changed. */
  onChange: () => void = () => {};
  private timer: ReturnType<typeof setTimeout> | null = null;

  /** The registry, from `GET /api/devices`. */
  register(devices: Device[]): void {
    this.devices.clear();
    for (const d of devices) this.devices.set(d.id, d);
    this.changed();
  }

  /** A `devices` snapshot: the latest state of each device heard (`replace` after a gap). */
  deviceSnapshot(items: unknown[]): void {
    this.states.clear();
    for (const item of items) this.deviceState((item as { data?: unknown })?.data);
    this.changed();
  }

  deviceDelta(data: unknown): void {
    this.deviceState(data);
    this.changed();
  }

  /** An `alarms` snapshot: the latest step of each alarm. */
  alarmSnapshot(items: unknown[]): void {
    this.alarms.clear();
    for (const item of items) this.alarmStep((item as { data?: unknown })?.data);
    this.changed();
  }

  alarmDelta(data: unknown): void {
    if (this.alarmStep(data)) this.changed();
  }

  health(id: string): Health {
    let worst: Health | null = null;
    for (const a of this.alarms.values()) {
      if (a.device !== id) continue;
      if (SEVERE.has(a.severity)) return 'abnormal';
      worst = 'warning';
    }
    if (worst) return worst;
    const state = this.states.get(id);
    return state?.online ? 'online' : 'offline';
  }

  /** Active device alarms, most severe first. */
  activeAlarms(): ActiveAlarm[] {
    const rank = (s: string) => (s === 'critical' ? 0 : s === 'major' ? 1 : s === 'warning' ? 2 : 3);
    return [...this.alarms.values()].sort((a, b) => rank(a.severity) - rank(b.severity));
  }

  /** Devices by health (all registered devices). */
  healthCounts(): Record<Health, number> {
    const counts: Record<Health, number> = { online: 0, warning: 0, abnormal: 0, offline: 0 };
    for (const id of this.devices.keys()) counts[this.health(id)]++;
    return counts;
  }

  deviceCollection(): FeatureCollection {
    const features: Feature[] = [];
    for (const d of this.devices.values()) {
      features.push({
        type: 'Feature',
        geometry: { type: 'Point', coordinates: [d.location.lon, d.location.lat] },
        properties: { id: d.id, type: d.type, health: this.health(d.id) },
      });
    }
    return { type: 'FeatureCollection', features };
  }

  alarmCollection(): FeatureCollection {
    const features: Feature[] = [];
    for (const a of this.activeAlarms()) {
      const d = this.devices.get(a.device);
      if (!d) continue;
      features.push({
        type: 'Feature',
        geometry: { type: 'Point', coordinates: [d.location.lon, d.location.lat] },
        properties: { device: a.device, rule: a.rule, severity: a.severity, severe: SEVERE.has(a.severity) },
      });
    }
    return { type: 'FeatureCollection', features };
  }

  private deviceState(data: unknown): void {
    const d = data as { device?: unknown; online?: unknown } | null;
    if (!d || typeof d.device !== 'string') return;
    this.states.set(d.device, { online: d.online !== false });
  }

  /** True when it changed what is active. */
  private alarmStep(data: unknown): boolean {
    const a = deviceAlarm(data);
    if (!a) return false;
    const key = `${a.device}/${a.rule}`;
    if (a.active) this.alarms.set(key, { device: a.device, rule: a.rule, severity: a.severity });
    else if (!this.alarms.delete(key)) return false;
    return true;
  }

  private changed(): void {
    if (this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.onChange();
    }, 1000);
  }
}
