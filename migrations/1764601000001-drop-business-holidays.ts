import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The holiday calendar is computed from the law (src/common/calendar.ts, docs/architecture.md
 * "Business calendar"): the business_holidays table, seeded for 2016, 2020 and 2026 only and read
 * by no SQL function, goes away so that nothing can count a year without its holidays again.
 */
export class DropBusinessHolidays1764601000001 implements MigrationInterface {
  name = 'DropBusinessHolidays1764601000001';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE business_holidays`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`
CREATE TABLE business_holidays (
  calendar text NOT NULL DEFAULT 'MX',
  day      date NOT NULL,
  name     text NOT NULL,
  PRIMARY KEY (calendar, day)
);
INSERT INTO business_holidays (calendar, day, name) VALUES
  ('MX', '2016-01-01', 'Año Nuevo'), ('MX', '2016-02-01', 'Día de la Constitución'), ('MX', '2016-03-21', 'Natalicio de Benito Juárez'),
  ('MX', '2016-05-01', 'Día del Trabajo'), ('MX', '2016-09-16', 'Día de la Independencia'), ('MX', '2016-11-21', 'Día de la Revolución'),
  ('MX', '2016-12-25', 'Navidad'),
  ('MX', '2020-01-01', 'Año Nuevo'), ('MX', '2020-02-03', 'Día de la Constitución'), ('MX', '2020-03-16', 'Natalicio de Benito Juárez'),
  ('MX', '2020-05-01', 'Día del Trabajo'), ('MX', '2020-09-16', 'Día de la Independencia'), ('MX', '2020-11-16', 'Día de la Revolución'),
  ('MX', '2020-12-25', 'Navidad'),
  ('MX', '2026-01-01', 'Año Nuevo'), ('MX', '2026-02-02', 'Día de la Constitución'), ('MX', '2026-03-16', 'Natalicio de Benito Juárez'),
  ('MX', '2026-05-01', 'Día del Trabajo'), ('MX', '2026-09-16', 'Día de la Independencia'), ('MX', '2026-11-16', 'Día de la Revolución'),
  ('MX', '2026-12-25', 'Navidad');
`);
  }
}
