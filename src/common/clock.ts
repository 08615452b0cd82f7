/**
 * The service's single source of "now". Production uses the system clock; tests inject a
 * settable one so that expiry, schedules and business dates can be exercised without waiting.
 */
export abstract class Clock {
  abstract now(): Date;
}

export class SystemClock extends Clock {
  now(): Date {
    return new Date();
  }
}

export class SettableClock extends Clock {
  private current: Date;
  constructor(start: Date = new Date()) {
    super();
    this.current = new Date(start);
  }
  now(): Date {
    return new Date(this.current);
  }
  set(at: Date | string): void {
    this.current = new Date(at);
  }
  advance(ms: number): void {
    this.current = new Date(this.current.getTime() + ms);
  }
}

/** Kept here for the modules that still import it from the clock; it lives in calendar.ts. */
export { businessDate } from './calendar';
