/** Display helpers shared by the panels. */

/**
 * A compact local date-time for narrow tables: the time only for today, else month, day and time,
 * with the year only when it is not the current one. An em dash for a missing value.
 */
export function formatDateTime(iso: string | null | undefined, now: Date = new Date()): string {
  if (!iso) {
    return '—';
  }
  const date = new Date(iso);
  if (isNaN(date.getTime())) {
    return iso;
  }
  const time: Intl.DateTimeFormatOptions = { hour: '2-digit', minute: '2-digit', hourCycle: 'h23' };
  if (date.toDateString() === now.toDateString()) {
    return date.toLocaleTimeString(undefined, time);
  }
  return date.toLocaleString(undefined, {
    ...time,
    month: 'short',
    day: 'numeric',
    year: date.getFullYear() === now.getFullYear() ? undefined : 'numeric'
  });
}

/** Full local date-time, for tooltips. */
export function formatDateTimeLong(iso: string | null | undefined): string | undefined {
  if (!iso) {
    return undefined;
  }
  const date = new Date(iso);
  return isNaN(date.getTime()) ? iso : date.toLocaleString();
}

/** `1h 02m`, `3m 05s`, `12s`; an em dash for a missing value. */
export function formatDuration(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined || !isFinite(seconds) || seconds < 0) {
    return '—';
  }
  const s = Math.round(seconds);
  if (s < 60) {
    return `${s}s`;
  }
  const pad = (n: number) => String(n).padStart(2, '0');
  const m = Math.floor(s / 60);
  if (m < 60) {
    return `${m}m ${pad(s % 60)}s`;
  }
  const h = Math.floor(m / 60);
  if (h < 24) {
    return `${h}h ${pad(m % 60)}m`;
  }
  return `${Math.floor(h / 24)}d ${pad(h % 24)}h`;
}

/**
 * Duration of a run: the server's value when it has one, else the time elapsed since it started
 * (a run still in progress).
 */
export function runDurationSeconds(
  run: { duration_seconds: number | null; start_time: string | null; end_time: string | null },
  now: number = Date.now()
): number | null {
  if (run.duration_seconds !== null && run.duration_seconds !== undefined) {
    return run.duration_seconds;
  }
  if (run.start_time && !run.end_time) {
    const start = new Date(run.start_time).getTime();
    if (!isNaN(start)) {
      return Math.max(0, (now - start) / 1000);
    }
  }
  return null;
}

/** A metric value: up to 6 significant digits, exponent form for very large or small values. */
export function formatNumber(value: number | null | undefined): string {
  if (value === null || value === undefined) {
    return '—';
  }
  if (typeof value !== 'number') {
    return String(value);
  }
  if (!isFinite(value)) {
    return String(value);
  }
  if (Number.isInteger(value) && Math.abs(value) < 1e15) {
    return String(value);
  }
  const abs = Math.abs(value);
  if (abs !== 0 && (abs >= 1e6 || abs < 1e-4)) {
    return value.toExponential(4);
  }
  return String(Number(value.toPrecision(6)));
}

/** `1.2 MB`, `512 B`. */
export function formatBytes(size: number | null | undefined): string {
  if (size === null || size === undefined || !isFinite(size)) {
    return '—';
  }
  const units = ['B', 'kB', 'MB', 'GB', 'TB'];
  let value = size;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit++;
  }
  return unit === 0 ? `${size} B` : `${value.toFixed(value < 10 ? 1 : 0)} ${units[unit]}`;
}

/** Any JSON value as short text (tags, properties, table cells). */
export function formatValue(value: unknown): string {
  if (value === null || value === undefined) {
    return '—';
  }
  if (typeof value === 'number') {
    return formatNumber(value);
  }
  if (typeof value === 'string') {
    return value;
  }
  return JSON.stringify(value);
}

/** A run's display name, or '' when it has none (the server defaults it to the run id). */
export function displayName(run: { id: string; display_name: string }): string {
  return run.display_name && run.display_name !== run.id ? run.display_name : '';
}

/**
 * How the studio names a run by number: `#4`, or `#4.1` for a child (numbered under its parent). The one
 * helper for it: every panel that shows a run's number goes through here.
 */
export function runNumber(run: { number: number; display_number?: string | null }): string {
  return `#${run.display_number || run.number}`;
}

/** `#12 lr=0.1` or `#12` (`#4.1 ...` for a child run). */
export function runShortName(run: {
  id: string;
  number: number;
  display_number?: string | null;
  display_name: string;
}): string {
  const name = displayName(run);
  return `${runNumber(run)}${name ? ` ${name}` : ''}`;
}
