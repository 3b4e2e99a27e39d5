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
