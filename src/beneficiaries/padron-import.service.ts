import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { parse } from 'csv-parse';
import { createReadStream } from 'node:fs';
import { once } from 'node:events';
import { from as copyFrom } from 'pg-copy-streams';
import type { PoolClient } from 'pg';
import { DataSource } from 'typeorm';
import { businessDate } from '../common/calendar';
import { Clock } from '../common/clock';
import { problems } from '../common/problem';
import { InstrumentsService } from '../instruments/instruments.service';
import { orderedUuidFactory } from '../database/ordered-uuid';
import { ProgramsService } from '../programs/programs.service';
import { oncePerYearsRefusal } from './eligibility.rules';
import { copyText } from './padron-csv';
import { headerIndex, parsePadronRow } from './padron-row.rules';

export interface ImportProgress {
  phase: 'validate' | 'insert' | 'instruments';
  done: number;
  total: number;
}

export interface RejectedRow {
  line: number;
  reason: string;
}

export interface ImportReport {
  importId: string;
  programId: string;
  totalRows: number;
  imported: number;
  rejected: number;
  /** Every rejected line when onRejected is not given, else the first 1,000. */
  rejections: RejectedRow[];
  instrumentsIssued: number;
  seconds: { validateAndCopy: number; insert: number; instruments: number; total: number };
}

const STAGING_COLUMNS = 'line, curp, given_names, surnames, birth_date, address, application_date, attributes';

const COPY_BATCH = 2000;

/**
 * Bulk import of a padrón CSV, set-based: every line is parsed and checked in Node (CURP,
 * dates, eligibility at its application date), the good ones are streamed with COPY into a
 * temporary table, and ONE INSERT … SELECT moves them into beneficiaries (folios from the
 * sequence, duplicates skipped by the one-active-CURP index) with one more for their status
 * history. Bad lines are reported with their line number and reason and never stop the good
 * ones. Everything runs in one transaction: a crash leaves no half import.
 */
@Injectable()
export class PadronImportService {
  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly programs: ProgramsService,
    private readonly instruments: InstrumentsService,
    private readonly clock: Clock,
  ) {}

  async importFile(
    programId: string,
    file: string,
    opts: {
      actor: string;
      onProgress?: (p: ImportProgress) => void;
      onRejected?: (r: RejectedRow) => void;
      /** Issue (and with pin, deliver) an instrument to every beneficiary this import created, and to nobody else. */
      issueInstruments?: { pin?: string; onNumbers?: (rows: Array<{ instrumentId: string; folio: string; number: string }>) => Promise<void> | void };
      totalLines?: number;
    },
  ): Promise<ImportReport> {
    const started = Date.now();
    const program = await this.programs.getById(programId);
    const today = businessDate(this.clock.now(), program.timeZone);
    const rejections: RejectedRow[] = [];
    let rejected = 0;
    const reject = (r: RejectedRow) => {
      rejected++;
      if (opts.onRejected) {
        opts.onRejected(r);
        if (rejections.length < 1000) rejections.push(r);
      } else rejections.push(r);
    };

    const qr = this.db.createQueryRunner();
    const client = (await qr.connect()) as PoolClient;
    let importId = '';
    let totalRows = 0;
    let imported = 0;
    let staged = 0;
    let tCopy = 0;
    let tInsert = 0;
    try {
      await qr.startTransaction();
      // A million-row INSERT … SELECT runs longer than the API's statement timeout.
      await qr.query(`SET LOCAL statement_timeout = 0`);
      await qr.query(`SET LOCAL work_mem = '256MB'`);
      importId = (
        await qr.query(`INSERT INTO padron_imports (program_id, file_name, actor, started_at) VALUES ($1, $2, $3, $4) RETURNING id`, [
          program.id,
          file.split('/').pop(),
          opts.actor,
          this.clock.now(),
        ])
      )[0].id;
      await qr.query(`CREATE TEMP TABLE padron_staging (
          line integer NOT NULL, curp text NOT NULL, given_names text NOT NULL, surnames text NOT NULL, birth_date date NOT NULL,
          address jsonb NOT NULL, application_date date NOT NULL, attributes jsonb NOT NULL) ON COMMIT DROP`);

      // Phase 1: parse, validate and COPY.
      const copy = client.query(copyFrom(`COPY padron_staging (${STAGING_COLUMNS}) FROM STDIN`));
      const copyDone = new Promise<void>((resolve, reject) => {
        copy.on('finish', resolve);
        copy.on('error', reject);
      });
      const parser = createReadStream(file).pipe(
        parse({ bom: true, relax_column_count: true, skip_empty_lines: true, skip_records_with_error: true, info: true }),
      );
      parser.on('skip', (err: { lines?: number; message: string }) => {
        totalRows++;
        reject({ line: err.lines ?? 0, reason: `malformed CSV: ${err.message}` });
      });
      let index: Map<string, number> | null = null;
      let width = 0;
      let buffer = '';
      let buffered = 0;
      for await (const { record, info } of parser as AsyncIterable<{ record: string[]; info: { lines: number } }>) {
        if (!index) {
          index = headerIndex(record);
          width = record.length;
          continue;
        }
        totalRows++;
        const result = parsePadronRow(record, index, width, program.rules, today);
        if (!result.ok) {
          reject({ line: info.lines, reason: result.reason });
        } else {
          staged++;
          const r = result.record;
          buffer += `${info.lines}\t${copyText(r.curp)}\t${copyText(r.givenNames)}\t${copyText(r.surnames)}\t${r.birthDate}\t${copyText(JSON.stringify(r.address))}\t${r.applicationDate}\t${copyText(JSON.stringify(r.attributes))}\n`;
          if (++buffered >= COPY_BATCH) {
            if (!copy.write(buffer)) await once(copy, 'drain');
            buffer = '';
            buffered = 0;
          }
        }
        if (totalRows % 10000 === 0) opts.onProgress?.({ phase: 'validate', done: totalRows, total: opts.totalLines ?? totalRows });
      }
      if (!index) throw problems.validation('the file is empty: a header line is required');
      if (buffer) copy.write(buffer);
      copy.end();
      await copyDone;
      opts.onProgress?.({ phase: 'validate', done: totalRows, total: totalRows });
      tCopy = (Date.now() - started) / 1000;

      // "Once every N years" across the lineage (SD-2, W9), as the alta checks it: the file cannot
      // declare away a payment this system made in an earlier fiscal year of the program.
      const years = program.rules.eligibility?.oncePerYears;
      if (years !== undefined) {
        const paid: Array<{ line: number; applicationDate: string; last: string }> = await qr.query(
          `SELECT s.line, s.application_date::text AS "applicationDate", to_char(max(pp.paid_at AT TIME ZONE p.time_zone), 'YYYY-MM-DD') AS last
             FROM padron_staging s JOIN programs p ON p.id = $1 JOIN paid_periods pp ON pp.lineage = p.lineage AND pp.beneficiary_key = s.curp
            GROUP BY s.line, s.application_date`,
          [program.id],
        );
        const refused = paid.flatMap((r) => {
          const refusal = oncePerYearsRefusal(r.last, r.applicationDate, years);
          return refusal ? [{ line: r.line, reason: `not_eligible: eligibility.oncePerYears: ${refusal}` }] : [];
        });
        if (refused.length) {
          await qr.query(`DELETE FROM padron_staging WHERE line = ANY ($1::int[])`, [refused.map((r) => r.line)]);
          staged -= refused.length;
          refused.forEach(reject);
        }
      }

      // Phase 2: one set-based insert. The first line of a CURP repeated in the file wins; a CURP
      // already active in the program is skipped by the partial unique index (ON CONFLICT).
      opts.onProgress?.({ phase: 'insert', done: 0, total: 1 });
      const t2 = Date.now();
      await qr.query(`ANALYZE padron_staging`);
      // Ids: one time-ordered prefix per import + the row number in CURP order, and rows inserted
      // in CURP order, so the primary key, both CURP indexes and the folio index all grow at
      // their right-hand edge instead of splitting pages all over a million-entry b-tree.
      const idPrefix = orderedUuidFactory(Date.now())().slice(0, 24);
      const counts = await qr.query(
        `WITH firsts AS (
           SELECT DISTINCT ON (curp) * FROM padron_staging ORDER BY curp, line),
         numbered AS (
           SELECT (($6::text || lpad(to_hex(row_number() OVER (ORDER BY curp)), 12, '0')))::uuid AS id, * FROM firsts),
         ins AS (
           INSERT INTO beneficiaries (id, program_id, folio, curp, given_names, surnames, birth_date, address, application_date, incorporated_on, attributes, import_id, created_by)
           SELECT id, $1, $2 || '-' || lpad(nextval('beneficiary_folio_seq')::text, 8, '0'), curp, given_names, surnames, birth_date, address,
                  application_date, application_date, attributes, $3, $4
             FROM numbered ORDER BY id
           ON CONFLICT (program_id, curp) WHERE status = 'active' DO NOTHING
           RETURNING id, application_date),
         hist AS (
           INSERT INTO beneficiary_status_history (beneficiary_id, from_status, to_status, cause, effective_date, actor, at)
           SELECT id, NULL, 'active', 'enrolment', application_date, $4, $5 FROM ins RETURNING 1)
         SELECT (SELECT count(*) FROM hist)::int AS imported, (SELECT count(*) FROM firsts)::int AS distinct`,
        [program.id, program.code, importId, opts.actor, this.clock.now(), idPrefix],
      );
      imported = counts[0].imported;
      const distinct: number = counts[0].distinct;
      const skipped: Array<{ line: number; firstLine: number | null }> = [];
      if (distinct < staged) {
        // Lines whose CURP appeared earlier in the file.
        skipped.push(
          ...(await qr.query(
            `SELECT line, "firstLine" FROM (SELECT line, min(line) OVER (PARTITION BY curp) AS "firstLine" FROM padron_staging) x
              WHERE line <> "firstLine"`,
          )),
        );
      }
      if (imported < distinct) {
        // First lines of a CURP already active in the program (skipped by ON CONFLICT).
        skipped.push(
          ...(await qr.query(
            `SELECT min(s.line) AS line, NULL AS "firstLine" FROM padron_staging s
              WHERE NOT EXISTS (SELECT 1 FROM beneficiaries b WHERE b.curp = s.curp AND b.program_id = $2 AND b.import_id = $1)
              GROUP BY s.curp`,
            [importId, program.id],
          )),
        );
      }
      skipped.sort((a, b) => a.line - b.line);
      for (const s of skipped) {
        reject({
          line: s.line,
          reason:
            s.firstLine !== null
              ? `duplicate_beneficiary: the same CURP appears on line ${s.firstLine}`
              : 'duplicate_beneficiary: an active beneficiary with this CURP exists in the program',
        });
      }
      await qr.query(`UPDATE padron_imports SET total_rows = $2, imported = $3, rejected = $4, finished_at = $5 WHERE id = $1`, [
        importId,
        totalRows,
        imported,
        rejected,
        this.clock.now(),
      ]);
      await qr.commitTransaction();
      tInsert = (Date.now() - t2) / 1000;
      opts.onProgress?.({ phase: 'insert', done: 1, total: 1 });
    } catch (error) {
      if (qr.isTransactionActive) await qr.rollbackTransaction();
      throw error;
    } finally {
      await qr.release();
    }

    let instrumentsIssued = 0;
    const t3 = Date.now();
    if (opts.issueInstruments) {
      const result = await this.instruments.issueBulk(program.id, {
        importId,
        pin: opts.issueInstruments.pin,
        actor: opts.actor,
        onNumbers: opts.issueInstruments.onNumbers,
        onProgress: (done, total) => opts.onProgress?.({ phase: 'instruments', done, total }),
      });
      instrumentsIssued = result.issued;
    }
    const tInstruments = (Date.now() - t3) / 1000;
    rejections.sort((a, b) => a.line - b.line);
    return {
      importId,
      programId: program.id,
      totalRows,
      imported,
      rejected,
      rejections,
      instrumentsIssued,
      seconds: { validateAndCopy: tCopy, insert: tInsert, instruments: tInstruments, total: (Date.now() - started) / 1000 },
    };
  }
}
