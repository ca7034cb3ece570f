// Times as the city reads them: in its zone (Ouhai: Asia/Shanghai, UTC+8), whatever the
// zone of the browser showing them (a laptop set to UTC, a phone abroad).

/** The city's time zone. */
export const CITY_ZONE = 'Asia/Shanghai';
/** Its offset, for reading a datetime-local input as the city's time. */
const CITY_OFFSET = '+08:00';

/** An RFC 3339 time as `YYYY-MM-DD HH:MM[:SS]` in the city's zone; the text itself when
 *  it is not a time. */
export function cityTime(iso: string, seconds = true): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  // sv-SE writes 2026-05-01 13:45:07.
  const text = d.toLocaleString('sv-SE', { timeZone: CITY_ZONE, hour12: false });
  return seconds ? text : text.slice(0, 16);
}

/** A datetime-local value (YYYY-MM-DDTHH:MM[:SS]) read as the city's time, as RFC 3339. */
export function cityInput(value: string): string | null {
  const m = /^(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2})(:\d{2})?/.exec(value);
  return m ? `${m[1]}T${m[2]}${m[3] ?? ':00'}${CITY_OFFSET}` : null;
}
