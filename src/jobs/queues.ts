/** BullMQ queue names (DESIGN.md "Jobs"). */
export const QUEUES = {
  cycles: 'cycles',
  holds: 'holds',
  sweeps: 'sweeps',
  settlement: 'settlement',
  seals: 'seals',
  loans: 'loans',
  integrity: 'integrity',
} as const;
