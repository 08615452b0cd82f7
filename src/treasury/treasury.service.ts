import { withTransaction } from '../database/transaction';
import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import type { StaffPrincipal } from '../common/auth/principal';
import { actorOf } from '../common/auth/principal';
import { businessDate } from '../common/calendar';
import { Clock } from '../common/clock';
import { formatMoney, money, sumMoney } from '../common/money';
import { ApiProblem, problems } from '../common/problem';
import type { Queryable } from '../database/queryable';
import { LedgerService } from '../ledger/ledger.service';
import { ProgramAccessService } from '../programs/program-access.service';
import { ProgramsService, TREASURY_ACCOUNT_CODE } from '../programs/programs.service';
import type { CsvRow } from '../common/csv';
import { decodeCursor, pageOf } from '../common/pagination';
import { cardCollectionDeadline, ReintegroCause } from './treasury.rules';
import { remittanceCsvEs, remittanceCsvFileNameEs } from './remittance-csv.rules';

export interface ReintegroInput {
  id?: string;
  programId: string;
  cause: ReintegroCause;
  bajaCause?: string | null;
  amount: string;
  source: 'instrument' | 'voucher' | 'grant' | 'program_budget' | 'payable';
  sourceAccountIds: string[];
  journalEntryId: string;
  beneficiaryId?: string | null;
  instrumentIds?: string[] | null;
  grantId?: string | null;
  trancheNo?: number | null;
  details?: Record<string, unknown>;
  createdAt: Date;
}

const REINTEGRO_COLUMNS = `r.id, r.program_id AS "programId", r.cause, r.baja_cause AS "bajaCause", r.amount::text AS amount, r.source,
  r.source_account_ids AS "sourceAccountIds", r.journal_entry_id AS "journalEntryId", r.beneficiary_id AS "beneficiaryId",
  r.instrument_ids AS "instrumentIds", r.grant_id AS "grantId", r.tranche_no AS "trancheNo", r.details, r.status,
  r.remittance_id AS "remittanceId", r.created_at AS "createdAt",
  (SELECT b.folio FROM beneficiaries b WHERE b.id = r.beneficiary_id) AS "beneficiaryFolio"`;

const REMITTANCE_COLUMNS = `m.id, m.number, m.program_id AS "programId", m.status, m.currency, m.item_count AS "itemCount", m.total::text AS total,
  m.prepared_by AS "preparedBy", m.prepared_by_user_id AS "preparedByUserId", m.approved_by AS "approvedBy", m.approved_at AS "approvedAt",
  m.cancelled_by AS "cancelledBy", m.cancelled_at AS "cancelledAt", m.cancel_reason AS "cancelReason", m.journal_entry_id AS "journalEntryId", m.created_at AS "createdAt"`;

function iso(d: Date | string | null): string | null {
  return d === null ? null : new Date(d).toISOString();
}

function reintegroView(r: Record<string, any>) {
  return { ...r, amount: formatMoney(r.amount), createdAt: iso(r.createdAt) };
}

function remittanceView(m: Record<string, any>) {
  const { preparedByUserId: _hidden, ...rest } = m;
  return { ...rest, total: formatMoney(m.total), createdAt: iso(m.createdAt), approvedAt: iso(m.approvedAt), cancelledAt: iso(m.cancelledAt) };
}

/**
 * Reintegros (money owed back to the Tesorería) and remittances (maker-checker batches that move
 * it there), plus the card-collection records of P22 (arrivals, failed delivery visits).
 * docs/treasury.md.
 */
@Injectable()
export class TreasuryService {
  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly ledger: LedgerService,
    private readonly programs: ProgramsService,
    private readonly access: ProgramAccessService,
    private readonly clock: Clock,
  ) {}

  /** Records a reintegro; call it in the transaction that posted its journal entry. Idempotent on the entry. */
  async recordReintegro(q: Queryable, r: ReintegroInput): Promise<string> {
    const rows = await q.query(
      `WITH ins AS (
         INSERT INTO reintegros (id, program_id, cause, baja_cause, amount, source, source_account_ids, journal_entry_id,
                                 beneficiary_id, instrument_ids, grant_id, tranche_no, details, created_at)
         VALUES (coalesce($1::uuid, gen_random_uuid()), $2, $3, $4, $5, $6, $7::uuid[], $8, $9, $10::uuid[], $11, $12, $13, $14)
         ON CONFLICT (journal_entry_id) DO NOTHING RETURNING id)
       SELECT id FROM ins UNION ALL SELECT id FROM reintegros WHERE journal_entry_id = $8 AND NOT EXISTS (SELECT 1 FROM ins)`,
      [
        r.id ?? null,
        r.programId,
        r.cause,
        r.bajaCause ?? null,
        money(r.amount).toFixed(2),
        r.source,
        r.sourceAccountIds,
        r.journalEntryId,
        r.beneficiaryId ?? null,
        r.instrumentIds ?? null,
        r.grantId ?? null,
        r.trancheNo ?? null,
        r.details ?? {},
        r.createdAt,
      ],
    );
    return rows[0].id;
  }

  async getReintegro(id: string) {
    const rows = await this.db.query(`SELECT ${REINTEGRO_COLUMNS} FROM reintegros r WHERE r.id = $1`, [id]);
    if (!rows[0]) throw problems.notFound('reintegro');
    return reintegroView(rows[0]);
  }

  /** Oldest first, keyset-paged on (created_at, id). */
  async listReintegros(opts: { programId?: string; status?: string; cause?: string; remittanceId?: string; limit: number; cursor?: string }) {
    const c = decodeCursor(opts.cursor, ['timestamp', 'uuid'] as const);
    const rows = await this.db.query(
      `SELECT ${REINTEGRO_COLUMNS}, r.created_at::text AS "cursorAt" FROM reintegros r
        WHERE ($1::uuid IS NULL OR r.program_id = $1) AND ($2::text IS NULL OR r.status = $2) AND ($3::text IS NULL OR r.cause = $3)
          AND ($4::uuid IS NULL OR r.remittance_id = $4)
          AND ($5::timestamptz IS NULL OR (r.created_at, r.id) > ($5::timestamptz, $6::uuid))
        ORDER BY r.created_at, r.id LIMIT $7`,
      [opts.programId ?? null, opts.status ?? null, opts.cause ?? null, opts.remittanceId ?? null, c?.[0] ?? null, c?.[1] ?? null, opts.limit + 1],
    );
    return pageOf(rows as Array<Record<string, any>>, opts.limit, (r) => [r.cursorAt, r.id], ({ cursorAt: _key, ...r }) => reintegroView(r));
  }

  // ---------------------------------------------------------------- remittances

  /**
   * Draft batch of every pending reintegro of the program (finance_operator). An optional
   * Idempotency-Key makes a retried request return the same draft. Concurrent drafts of one
   * program are serialised (advisory lock); the partial unique index remittance_items_once
   * guarantees a reintegro is in at most one live remittance.
   */
  async createRemittance(programId: string, staff: StaffPrincipal, idempotencyKey: string | null) {
    const actor = actorOf(staff);
    const program = await this.programs.getById(programId);
    return withTransaction(this.db, async (m) => {
      if (idempotencyKey) {
        const prior = await m.query(`SELECT ${REMITTANCE_COLUMNS} FROM remittances m WHERE m.prepared_by = $1 AND m.create_key = $2`, [actor, idempotencyKey]);
        if (prior[0]) {
          if (prior[0].programId !== programId) throw new ApiProblem(422, 'idempotency_key_reused', 'This Idempotency-Key was used with a different request');
          return { ...remittanceView(prior[0]), replayed: true };
        }
      }
      await m.query(`SELECT pg_advisory_xact_lock(hashtext('remittance-draft'), hashtext($1::text))`, [programId]);
      const pending: Array<{ id: string; amount: string }> = await m.query(
        `SELECT id, amount::text AS amount FROM reintegros WHERE program_id = $1 AND status = 'pending' ORDER BY created_at, id FOR UPDATE`,
        [programId],
      );
      if (!pending.length) throw new ApiProblem(422, 'no_pending_reintegros', `program ${program.code} has no pending reintegros to remit`);
      const total = sumMoney(pending.map((p) => p.amount));
      const id = randomUUID();
      const now = this.clock.now();
      await m.query(
        `INSERT INTO remittances (id, number, program_id, currency, item_count, total, prepared_by, prepared_by_user_id, create_key, created_at)
         VALUES ($1, 'RM-' || lpad(nextval('remittance_number_seq')::text, 8, '0'), $2, $3, $4, $5, $6, $7, $8, $9)`,
        [id, programId, program.currency, pending.length, total.toFixed(2), actor, staff.userId, idempotencyKey, now],
      );
      await m.query(
        `INSERT INTO remittance_items (remittance_id, reintegro_id, amount) SELECT $1, t.id, t.amount FROM unnest($2::uuid[], $3::numeric[]) AS t(id, amount)`,
        [id, pending.map((p) => p.id), pending.map((p) => p.amount)],
      );
      await m.query(`UPDATE reintegros SET status = 'in_remittance', remittance_id = $1 WHERE id = ANY($2::uuid[])`, [id, pending.map((p) => p.id)]);
      return { ...(await this.remittanceRow(id, m)), replayed: false };
    });
  }

  private async remittanceRow(id: string, q: Queryable = this.db, lock = false) {
    const rows = await q.query(`SELECT ${REMITTANCE_COLUMNS} FROM remittances m WHERE m.id = $1 ${lock ? 'FOR UPDATE' : ''}`, [id]);
    if (!rows[0]) throw problems.notFound('remittance');
    return lock ? rows[0] : remittanceView(rows[0]);
  }

  async getRemittance(id: string) {
    return this.remittanceRow(id);
  }

  /** Oldest first, keyset-paged on (created_at, id). */
  async listRemittances(opts: { programId?: string; status?: string; limit: number; cursor?: string }) {
    const c = decodeCursor(opts.cursor, ['timestamp', 'uuid'] as const);
    const rows = await this.db.query(
      `SELECT ${REMITTANCE_COLUMNS}, m.created_at::text AS "cursorAt" FROM remittances m
        WHERE ($1::uuid IS NULL OR m.program_id = $1) AND ($2::text IS NULL OR m.status = $2)
          AND ($3::timestamptz IS NULL OR (m.created_at, m.id) > ($3::timestamptz, $4::uuid))
        ORDER BY m.created_at, m.id LIMIT $5`,
      [opts.programId ?? null, opts.status ?? null, c?.[0] ?? null, c?.[1] ?? null, opts.limit + 1],
    );
    return pageOf(rows as Array<Record<string, any>>, opts.limit, (r) => [r.cursorAt, r.id], ({ cursorAt: _key, ...r }) => remittanceView(r));
  }

  /**
   * Approval (finance_approver, never the preparer): one journal entry 'remittance'
   * program:<id>:reintegro → treasury:<currency> for the batch total; its reintegros are remitted.
   */
  async approveRemittance(id: string, staff: StaffPrincipal) {
    const actor = actorOf(staff);
    return withTransaction(this.db, async (m) => {
      const r = await this.remittanceRow(id, m, true);
      if (r.status !== 'draft') throw problems.conflict('invalid_remittance_state', `the remittance is ${r.status}, not a draft`);
      if (r.preparedByUserId && r.preparedByUserId === staff.userId) {
        throw new ApiProblem(403, 'same_user_cannot_approve', 'the user who prepared the remittance cannot approve it');
      }
      const program = await this.programs.getById(r.programId, m);
      const [sum] = await m.query(`SELECT coalesce(sum(amount), 0)::text AS total, count(*)::int AS n FROM reintegros WHERE remittance_id = $1 AND status = 'in_remittance'`, [id]);
      if (!money(sum.total).eq(money(r.total)) || sum.n !== r.itemCount) throw new Error(`remittance ${id}: items do not add up to the batch total`);
      const treasury = await this.ledger.ensureAccount(
        { code: TREASURY_ACCOUNT_CODE(program.currency), name: `Tesorería ${program.currency}`, category: 'treasury', normalSide: 'debit', currency: program.currency },
        m,
      );
      const now = this.clock.now();
      const amount = money(r.total);
      const posted = await this.ledger.post(
        {
          kind: 'remittance',
          idempotencyKey: `remittance:${id}`,
          effectiveAt: now,
          description: `Remittance ${r.number} of ${program.code} to the Tesorería`,
          metadata: { remittanceId: id, number: r.number, programId: program.id, items: r.itemCount },
          createdBy: actor,
          postings: [
            { accountId: program.reintegroAccountId, side: 'debit', amount },
            { accountId: treasury.id, side: 'credit', amount },
          ],
        },
        m,
      );
      await m.query(
        `UPDATE remittances SET status = 'approved', approved_by = $2, approved_by_user_id = $3, approved_at = $4, journal_entry_id = $5 WHERE id = $1`,
        [id, actor, staff.userId, now, posted.entryId],
      );
      await m.query(`UPDATE reintegros SET status = 'remitted' WHERE remittance_id = $1`, [id]);
      return this.remittanceRow(id, m);
    });
  }

  /** Cancels a draft: its reintegros are pending again (the items stay, not live, as history). */
  async cancelRemittance(id: string, staff: StaffPrincipal, reason: string | null = null) {
    return withTransaction(this.db, async (m) => {
      const r = await this.remittanceRow(id, m, true);
      if (r.status !== 'draft') throw problems.conflict('invalid_remittance_state', `the remittance is ${r.status}, not a draft`);
      await m.query(`UPDATE remittance_items SET live = false WHERE remittance_id = $1`, [id]);
      await m.query(`UPDATE reintegros SET status = 'pending', remittance_id = NULL WHERE remittance_id = $1`, [id]);
      await m.query(`UPDATE remittances SET status = 'cancelled', cancelled_by = $2, cancelled_at = $3, cancel_reason = $4 WHERE id = $1`, [id, actorOf(staff), this.clock.now(), reason]);
      return this.remittanceRow(id, m);
    });
  }

  /**
   * The remittance document: one CSV line per item. A voucher-expiry reintegro (one journal entry
   * for a chunk of vouchers) is itemised voucher by voucher from treasury_voucher_sweeps; every
   * other reintegro is one line — a late refund (docs/treasury.md) too, even to a swept voucher,
   * with `refund:<id>` as its source reference. No CURP, no card number: folio and last four digits only.
   */
  /** The remittance document to download: as defined (English codes, UTC), or in Spanish for spreadsheets (`lang=es`). */
  async remittanceDocument(id: string, lang?: 'es'): Promise<{ fileName: string; rows: AsyncIterable<CsvRow>; bom: boolean }> {
    const r = await this.remittanceRow(id);
    if (lang !== 'es') return { fileName: `remittance-${r.number}.csv`, rows: this.remittanceCsv(id), bom: false };
    const program = await this.programs.getById(r.programId);
    return { fileName: remittanceCsvFileNameEs(r.number, program.code), rows: remittanceCsvEs(this.remittanceCsv(id), program.timeZone), bom: true };
  }

  async *remittanceCsv(id: string): AsyncGenerator<CsvRow> {
    const r = await this.remittanceRow(id);
    const program = await this.programs.getById(r.programId);
    yield ['remittance', 'status', 'program', 'reintegro_id', 'cause', 'baja_cause', 'created_at', 'source', 'source_ref', 'beneficiary_folio', 'instrument_last4', 'amount', 'journal_entry_id'];
    const head = [r.number, r.status, program.code];
    // The keyset keeps created_at as PostgreSQL prints it (µs): a Date would cut it to ms and skip rows.
    let cursor: { at: string; id: string } | null = null;
    for (;;) {
      const rows: Array<Record<string, any>> = await this.db.query(
        `SELECT r.id, r.cause, r.baja_cause AS "bajaCause", r.created_at AS "createdAt", r.created_at::text AS "cursorAt", r.source, r.amount::text AS amount,
                r.journal_entry_id AS "journalEntryId", r.grant_id AS "grantId", r.tranche_no AS "trancheNo",
                r.details->>'itemsIn' AS "itemsIn", r.details->>'refundId' AS "refundId", b.folio, (SELECT string_agg(i.last4, ';' ORDER BY i.id) FROM instruments i WHERE i.id = ANY (r.instrument_ids)) AS last4
           FROM remittance_items it JOIN reintegros r ON r.id = it.reintegro_id LEFT JOIN beneficiaries b ON b.id = r.beneficiary_id
          WHERE it.remittance_id = $1 AND ($2::timestamptz IS NULL OR (r.created_at, r.id) > ($2::timestamptz, $3::uuid))
          ORDER BY r.created_at, r.id LIMIT 1000`,
        [id, cursor?.at ?? null, cursor?.id ?? null],
      );
      if (!rows.length) return;
      for (const x of rows) {
        const created = iso(x.createdAt);
        if (x.itemsIn === 'treasury_voucher_sweeps') {
          let after = '00000000-0000-0000-0000-000000000000';
          for (;;) {
            const items: Array<{ instrumentId: string; amount: string; folio: string | null; last4: string | null }> = await this.db.query(
              `SELECT s.instrument_id AS "instrumentId", s.amount::text AS amount, b.folio, i.last4
                 FROM treasury_voucher_sweeps s JOIN instruments i ON i.id = s.instrument_id JOIN beneficiaries b ON b.id = i.beneficiary_id
                WHERE s.reintegro_id = $1 AND s.instrument_id > $2 ORDER BY s.instrument_id LIMIT 5000`,
              [x.id, after],
            );
            if (!items.length) break;
            for (const it of items) yield [...head, x.id, x.cause, x.bajaCause, created, 'voucher', it.instrumentId, it.folio, it.last4, formatMoney(it.amount), x.journalEntryId];
            after = items[items.length - 1].instrumentId;
          }
        } else {
          const ref = x.refundId
            ? `refund:${x.refundId}`
            : x.source === 'grant' ? `${x.grantId}#${x.trancheNo ?? ''}` : x.source === 'program_budget' ? program.code : '';
          yield [...head, x.id, x.cause, x.bajaCause, created, x.source, ref, x.folio, x.last4, formatMoney(x.amount), x.journalEntryId];
        }
      }
      const last = rows[rows.length - 1];
      cursor = { at: last.cursorAt, id: last.id };
    }
  }

  // ---------------------------------------------------------------- card collection records (P21, P22)

  private async cardFor(instrumentId: string, staff: StaffPrincipal, q: Queryable) {
    const rows = await q.query(
      `SELECT i.id, i.kind, i.status, i.program_id AS "programId" FROM instruments i WHERE i.id = $1 FOR UPDATE`,
      [instrumentId],
    );
    if (!rows[0]) throw problems.notFound('instrument');
    const program = await this.programs.getById(rows[0].programId, q);
    await this.access.assertMayManage(staff, program, q);
    return { instrument: rows[0] as { id: string; kind: string; status: string; programId: string }, program };
  }

  /** The date a card arrived at the central office (P21): the start of the delivery period. */
  async recordArrival(instrumentIds: string[], arrivedOn: string, batch: string | null, staff: StaffPrincipal) {
    const program = await withTransaction(this.db, async (m) => {
      let programId: string | null = null;
      for (const id of [...new Set(instrumentIds)].sort()) {
        const { instrument, program } = await this.cardFor(id, staff, m);
        if (instrument.status !== 'issued') throw problems.conflict('invalid_status_transition', `instrument ${id} is ${instrument.status}; arrivals are recorded for issued cards`);
        if (arrivedOn > businessDate(this.clock.now(), program.timeZone)) throw problems.validation('arrivedOn cannot be in the future');
        programId = program.id;
        await m.query(
          `INSERT INTO instrument_card_arrivals (instrument_id, arrived_on, batch, recorded_by, recorded_at) VALUES ($1, $2, $3, $4, $5)
           ON CONFLICT (instrument_id) DO UPDATE SET arrived_on = EXCLUDED.arrived_on, batch = EXCLUDED.batch, recorded_by = EXCLUDED.recorded_by, recorded_at = EXCLUDED.recorded_at`,
          [id, arrivedOn, batch, actorOf(staff), this.clock.now()],
        );
      }
      return programId;
    });
    return { recorded: new Set(instrumentIds).size, arrivedOn, batch, programId: program };
  }

  /** A failed delivery visit (P22: three on different days, after the delivery period, lead to baja). */
  async recordVisit(instrumentId: string, input: { visitedAt: string; note?: string }, staff: StaffPrincipal) {
    const visitedAt = new Date(input.visitedAt);
    if (Number.isNaN(visitedAt.getTime())) throw problems.validation('visitedAt is not a valid instant');
    if (visitedAt > this.clock.now()) throw problems.validation('visitedAt cannot be in the future');
    return withTransaction(this.db, async (m) => {
      const { instrument } = await this.cardFor(instrumentId, staff, m);
      if (instrument.status !== 'issued') throw problems.conflict('invalid_status_transition', `the instrument is ${instrument.status}; visits are recorded for cards not delivered yet`);
      const rows = await m.query(
        `INSERT INTO instrument_delivery_visits (instrument_id, visited_at, note, recorded_by, recorded_at) VALUES ($1, $2, $3, $4, $5) RETURNING id`,
        [instrumentId, visitedAt, input.note ?? null, actorOf(staff), this.clock.now()],
      );
      return { id: rows[0].id, instrumentId, visitedAt: visitedAt.toISOString(), note: input.note ?? null };
    });
  }

  async deliveryRecord(instrumentId: string, staff: StaffPrincipal) {
    const { instrument, program } = await this.cardFor(instrumentId, staff, this.db);
    const [arrival] = await this.db.query(`SELECT to_char(arrived_on, 'YYYY-MM-DD') AS "arrivedOn", batch FROM instrument_card_arrivals WHERE instrument_id = $1`, [instrumentId]);
    const visits = await this.db.query(
      `SELECT id, visited_at AS "visitedAt", note, recorded_by AS "recordedBy" FROM instrument_delivery_visits WHERE instrument_id = $1 ORDER BY visited_at, id`,
      [instrumentId],
    );
    const rule = program.rules.cardCollection;
    const deadline = arrival && rule ? cardCollectionDeadline(arrival.arrivedOn, rule.businessDays) : null;
    return {
      instrumentId,
      status: instrument.status,
      arrivedOn: arrival?.arrivedOn ?? null,
      batch: arrival?.batch ?? null,
      deliveryDeadline: deadline,
      visitsRequired: rule?.visits ?? null,
      visits: visits.map((v: { visitedAt: Date }) => ({ ...v, visitedAt: iso(v.visitedAt) })),
    };
  }
}
