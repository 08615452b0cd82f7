import { withTransaction } from '../database/transaction';
import { endOfBusinessDate } from '../common/calendar';
import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import type { StaffPrincipal } from '../common/auth/principal';
import { instrumentNumberHash, pinHash } from '../common/auth/secrets';
import { Clock } from '../common/clock';
import { sqlState, SQLSTATE } from '../common/db-errors';
import { formatMoney } from '../common/money';
import { problems } from '../common/problem';
import { APP_CONFIG, AppConfig } from '../config/config';
import type { Queryable } from '../database/queryable';
import { LedgerService } from '../ledger/ledger.service';
import { isBankPaid } from '../payouts/payouts.rules';
import { ProgramAccessService } from '../programs/program-access.service';
import { Program, ProgramsService } from '../programs/programs.service';
import { generateInstrumentNumber, maskInstrumentNumber, PIN_PATTERN } from './instrument-number.rules';
import { orderedUuidFactory } from '../database/ordered-uuid';
import { returnedRows } from '../database/returning';

export type InstrumentKind = 'card' | 'voucher';
export type InstrumentStatus = 'issued' | 'active' | 'blocked' | 'replaced' | 'cancelled';

interface InstrumentRow {
  id: string;
  beneficiaryId: string;
  programId: string;
  kind: InstrumentKind;
  numberHash: string;
  last4: string;
  status: InstrumentStatus;
  failedPinAttempts: number;
  pinLocked: boolean;
  expiresAt: Date | null;
  accountId: string;
  replacesId: string | null;
  issuedAt: Date;
  deliveredAt: Date | null;
  blockedReason: string | null;
  statusBeforeBlock: string | null;
}

const COLUMNS = `id, beneficiary_id AS "beneficiaryId", program_id AS "programId", kind, number_hash AS "numberHash", last4, status,
  failed_pin_attempts AS "failedPinAttempts", pin_locked AS "pinLocked", expires_at AS "expiresAt", account_id AS "accountId",
  replaces_id AS "replacesId", issued_at AS "issuedAt", delivered_at AS "deliveredAt", blocked_reason AS "blockedReason",
  status_before_block AS "statusBeforeBlock"`;

/** Vouchers for voucher programs, cards for the others (bank-paid programs get none: docs/payouts.md). */
export function instrumentKindOf(program: Pick<Program, 'instrumentType'>): InstrumentKind {
  return program.instrumentType === 'voucher' ? 'voucher' : 'card';
}

/**
 * A bank-paid program (Seguro: the woman's own bank account; Desempleo: a bank card) pays into the
 * beneficiary's bank account (docs/payouts.md): no card or voucher of ours is issued for it.
 */
function assertIssuesInstruments(program: Pick<Program, 'code' | 'instrumentType' | 'rules'>): void {
  // An in-kind program (Comedores Públicos, Aliméntate, Calle) gives rations, packages or services: no money, no instrument (docs/in-kind.md).
  if (program.rules.benefit.type === 'in_kind') {
    throw problems.unprocessable('instrument_not_supported', `${program.code} delivers in kind: record its deliveries (POST /v1/programs/{id}/deliveries)`);
  }
  if (isBankPaid(program)) {
    throw problems.unprocessable('instrument_not_supported', `${program.code} pays through a bank: record the beneficiary's bank account (PUT /v1/beneficiaries/{id}/bank-account)`);
  }
}

/** Cards and vouchers: issuance with a random Luhn number, delivery with a PIN, block, replacement. */
@Injectable()
export class InstrumentsService {
  constructor(
    @InjectDataSource() private readonly db: DataSource,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly ledger: LedgerService,
    private readonly programs: ProgramsService,
    private readonly access: ProgramAccessService,
    private readonly clock: Clock,
  ) {}

  numberHash(number: string): string {
    return instrumentNumberHash(number, this.config.INSTRUMENT_NUMBER_SECRET);
  }

  /**
   * Voucher expiry: the first instant of the day after rules.voucherExpiresOn in the program's
   * time zone (exclusive: the voucher works through the whole last day, "hasta el 31 de diciembre").
   */
  voucherExpiry(program: Program): Date | null {
    if (instrumentKindOf(program) !== 'voucher' || !program.rules.voucherExpiresOn) return null;
    return endOfBusinessDate(program.rules.voucherExpiresOn, program.timeZone);
  }

  async issue(beneficiaryId: string, staff: StaffPrincipal) {
    const actor = `user:${staff.username}`;
    return withTransaction(this.db, async (m) => {
      const b = (await m.query(`SELECT id, program_id AS "programId", status FROM beneficiaries WHERE id = $1 FOR UPDATE`, [beneficiaryId]))[0];
      if (!b) throw problems.notFound('beneficiary');
      const program = await this.programs.getById(b.programId, m);
      await this.access.assertMayManage(staff, program, m);
      if (b.status !== 'active') throw problems.unprocessable('beneficiary_not_active', 'instruments are issued only to active beneficiaries');
      assertIssuesInstruments(program);
      const live = await m.query(`SELECT id FROM instruments WHERE beneficiary_id = $1 AND status IN ('issued', 'active', 'blocked')`, [b.id]);
      if (live[0]) throw problems.conflict('instrument_exists', `the beneficiary already has a live instrument (${live[0].id}); replace it instead`);
      const expiresAt = this.voucherExpiry(program);
      if (expiresAt && expiresAt <= this.clock.now()) throw problems.unprocessable('instrument_expired', `vouchers of ${program.code} expired on ${program.rules.voucherExpiresOn}`);
      const created = await this.createInstrument(m, program, b.id, { expiresAt, replacesId: null, actor });
      return { ...(await this.view(created.row, m)), number: created.number };
    });
  }

  /** Inserts one instrument and its ledger account instrument:<id>; retries on the (astronomically rare) number collision. */
  private async createInstrument(m: Queryable, program: Program, beneficiaryId: string, opts: { expiresAt: Date | null; replacesId: string | null; actor: string }) {
    const id = randomUUID();
    const account = await this.ledger.ensureAccount(
      { code: `instrument:${id}`, name: `${instrumentKindOf(program)} ${id}`, category: 'instrument', programId: program.id, ownerType: 'instrument', ownerId: id, currency: program.currency, noNegativeBalance: true },
      m,
    );
    for (let attempt = 0; ; attempt++) {
      const number = generateInstrumentNumber();
      const rows = await m.query(
        `INSERT INTO instruments (id, beneficiary_id, program_id, kind, number_hash, last4, status, expires_at, account_id, replaces_id, issued_at, created_by)
         VALUES ($1, $2, $3, $4, $5, $6, 'issued', $7, $8, $9, $10, $11)
         ON CONFLICT (number_hash) DO NOTHING RETURNING ${COLUMNS}`,
        [id, beneficiaryId, program.id, instrumentKindOf(program), this.numberHash(number), number.slice(-4), opts.expiresAt, account.id, opts.replacesId, this.clock.now(), opts.actor],
      );
      if (rows[0]) return { row: rows[0] as InstrumentRow, number };
      if (attempt >= 5) throw new Error('could not draw an unused instrument number');
    }
  }

  private async load(id: string, m: Queryable, staff: StaffPrincipal | null, lock: boolean) {
    const row: InstrumentRow | undefined = (await m.query(`SELECT ${COLUMNS} FROM instruments WHERE id = $1 ${lock ? 'FOR UPDATE' : ''}`, [id]))[0];
    if (!row) throw problems.notFound('instrument');
    const program = await this.programs.getById(row.programId, m);
    if (staff) await this.access.assertMayManage(staff, program, m);
    return { row, program };
  }

  async get(id: string, staff: StaffPrincipal) {
    const { row } = await this.load(id, this.db, staff, false);
    return this.view(row);
  }

  /** Entrega: sets the PIN (HMAC keyed by the number's hash) and activates the instrument. */
  async deliver(id: string, pin: string, staff: StaffPrincipal) {
    if (!PIN_PATTERN.test(pin)) throw problems.validation('pin must be 4 to 6 digits');
    return withTransaction(this.db, async (m) => {
      const { row } = await this.load(id, m, staff, true);
      if (row.status !== 'issued') throw problems.conflict('invalid_status_transition', `only an issued instrument can be delivered; this one is ${row.status}`);
      const rows = await m.query(
        `UPDATE instruments SET status = 'active', pin_hash = $2, failed_pin_attempts = 0, pin_locked = false, delivered_at = $3
          WHERE id = $1 RETURNING ${COLUMNS}`,
        [id, pinHash(row.numberHash, pin, this.config.INSTRUMENT_NUMBER_SECRET), this.clock.now()],
      );
      return this.view(returnedRows<InstrumentRow>(rows)[0], m);
    });
  }

  /** Block by an officer (lost card, suspicion). Blocking a blocked instrument changes nothing. */
  async block(id: string, staff: StaffPrincipal) {
    return withTransaction(this.db, async (m) => {
      const { row } = await this.load(id, m, staff, true);
      if (row.status === 'blocked') return this.view(row, m);
      if (row.status !== 'issued' && row.status !== 'active') throw problems.conflict('invalid_status_transition', `a ${row.status} instrument cannot be blocked`);
      const rows = await m.query(
        `UPDATE instruments SET status = 'blocked', blocked_reason = 'manual', status_before_block = status WHERE id = $1 RETURNING ${COLUMNS}`,
        [id],
      );
      return this.view(returnedRows<InstrumentRow>(rows)[0], m);
    });
  }

  /**
   * Unblock: back to the status it had before the block. Also clears a PIN lock (three wrong PINs,
   * set by redemption): an officer who has identified the holder unlocks the card.
   * An instrument blocked by a baja comes back only with the reingreso.
   */
  async unblock(id: string, staff: StaffPrincipal) {
    return withTransaction(this.db, async (m) => {
      const { row } = await this.load(id, m, staff, true);
      if (row.status === 'blocked' && row.blockedReason === 'baja') {
        throw problems.unprocessable('beneficiary_not_active', 'this instrument was blocked by a baja; it comes back with the reingreso');
      }
      if (row.status !== 'blocked' && !(row.pinLocked && (row.status === 'active' || row.status === 'issued'))) {
        throw problems.conflict('invalid_status_transition', `a ${row.status} instrument is not blocked`);
      }
      const rows = await m.query(
        `UPDATE instruments SET status = CASE WHEN status = 'blocked' THEN coalesce(status_before_block, 'issued') ELSE status END,
                blocked_reason = NULL, status_before_block = NULL, pin_locked = false, failed_pin_attempts = 0
          WHERE id = $1 RETURNING ${COLUMNS}`,
        [id],
      );
      return this.view(returnedRows<InstrumentRow>(rows)[0], m);
    });
  }

  /**
   * Reposición: a new instrument (issued; it needs delivery with a new PIN), the old one
   * 'replaced', and the old balance moved to the new account in ONE journal entry 'replacement'.
   * Design decision: refused (422 instrument_has_holds) while the old instrument has authorized
   * holds, because a merchant may still capture them; void or let them expire first.
   */
  async replace(id: string, staff: StaffPrincipal) {
    const actor = `user:${staff.username}`;
    return withTransaction(this.db, async (m) => {
      const { row: old, program } = await this.load(id, m, staff, true);
      if (!['issued', 'active', 'blocked'].includes(old.status)) throw problems.conflict('invalid_status_transition', `a ${old.status} instrument cannot be replaced`);
      if (old.status === 'blocked' && old.blockedReason === 'baja') throw problems.unprocessable('beneficiary_not_active', 'the beneficiary is deactivated');
      const b = (await m.query(`SELECT status FROM beneficiaries WHERE id = $1`, [old.beneficiaryId]))[0];
      if (b.status !== 'active') throw problems.unprocessable('beneficiary_not_active', 'instruments are replaced only for active beneficiaries');
      // Freeze the old balance: the account row is locked in the ledger's order before reading it.
      await m.query(`SELECT id FROM ledger_accounts WHERE id = $1 FOR UPDATE`, [old.accountId]);
      const holds = await m.query(`SELECT count(*)::int AS n FROM ledger_holds WHERE account_id = $1 AND status = 'authorized'`, [old.accountId]);
      if (holds[0].n > 0) throw problems.unprocessable('instrument_has_holds', `the instrument has ${holds[0].n} authorized hold(s); void them or wait for them to expire`);
      await m.query(`UPDATE instruments SET status = 'replaced', blocked_reason = NULL, status_before_block = NULL WHERE id = $1`, [old.id]);
      const created = await this.createInstrument(m, program, old.beneficiaryId, { expiresAt: old.expiresAt, replacesId: old.id, actor });
      const balance = await this.ledger.balance(old.accountId, m);
      let entryId: string | null = null;
      if (balance.posted.gt(0)) {
        const posted = await this.ledger.post(
          {
            kind: 'replacement',
            idempotencyKey: `replacement:${old.id}`,
            effectiveAt: this.clock.now(),
            description: `Reposición: balance of instrument ${old.id} to ${created.row.id}`,
            metadata: { beneficiaryId: old.beneficiaryId, fromInstrumentId: old.id, toInstrumentId: created.row.id },
            createdBy: actor,
            postings: [
              { accountId: old.accountId, side: 'debit', amount: balance.posted },
              { accountId: created.row.accountId, side: 'credit', amount: balance.posted },
            ],
          },
          m,
        );
        entryId = posted.entryId;
      }
      return {
        ...(await this.view(created.row, m)),
        number: created.number,
        balanceMoved: formatMoney(balance.posted),
        journalEntryId: entryId,
      };
    });
  }

  async view(r: InstrumentRow, q: Queryable = this.db) {
    const b = await this.ledger.balance(r.accountId, q);
    return {
      id: r.id,
      beneficiaryId: r.beneficiaryId,
      programId: r.programId,
      kind: r.kind,
      status: r.status,
      maskedNumber: maskInstrumentNumber(r.last4),
      last4: r.last4,
      expiresAt: r.expiresAt ? new Date(r.expiresAt).toISOString() : null,
      pinLocked: r.pinLocked,
      failedPinAttempts: r.failedPinAttempts,
      blockedReason: r.blockedReason,
      replacesId: r.replacesId,
      accountId: r.accountId,
      issuedAt: new Date(r.issuedAt).toISOString(),
      deliveredAt: r.deliveredAt ? new Date(r.deliveredAt).toISOString() : null,
      balance: { posted: formatMoney(b.posted), pending: formatMoney(b.pending), available: formatMoney(b.available) },
    };
  }

  // ---------------------------------------------------------------- bulk issuance

  /**
   * Issues (and with a PIN, delivers) an instrument to every active beneficiary of the program
   * that has no live one, set-based: per chunk one INSERT of ledger accounts and one INSERT of
   * instruments, each chunk its own transaction (a crash loses at most the chunk in flight, and a
   * re-run only picks up beneficiaries still without an instrument). Numbers are drawn and hashed
   * here; `onNumbers` receives them in clear (for a demo file) — they are never stored.
   */
  async issueBulk(
    programId: string,
    opts: {
      pin?: string;
      actor: string;
      chunkSize?: number;
      /** Only the beneficiaries this padrón import created (padron:import --issue-instruments), never the rest of the program. */
      importId?: string;
      onProgress?: (done: number, total: number) => void;
      onNumbers?: (rows: Array<{ instrumentId: string; folio: string; number: string }>) => Promise<void> | void;
    },
  ): Promise<{ issued: number; delivered: number }> {
    if (opts.pin !== undefined && !PIN_PATTERN.test(opts.pin)) throw problems.validation('pin must be 4 to 6 digits');
    const program = await this.programs.getById(programId);
    assertIssuesInstruments(program);
    const kind = instrumentKindOf(program);
    const expiresAt = this.voucherExpiry(program);
    const chunkSize = opts.chunkSize ?? 20000;
    const total: number = (
      await this.db.query(
        `SELECT count(*)::int AS n FROM beneficiaries b WHERE b.program_id = $1 AND b.status = 'active' AND ($2::uuid IS NULL OR b.import_id = $2)
            AND NOT EXISTS (SELECT 1 FROM instruments i WHERE i.beneficiary_id = b.id AND i.status IN ('issued', 'active', 'blocked'))`,
        [program.id, opts.importId ?? null],
      )
    )[0].n;
    const secret = this.config.INSTRUMENT_NUMBER_SECRET;
    let issued = 0;
    let cursor = '00000000-0000-0000-0000-000000000000';
    // Time-ordered ids for instruments and their accounts: a million inserts append to the indexes.
    const nextInstrumentId = orderedUuidFactory(Date.now());
    const nextAccountId = orderedUuidFactory(Date.now() + 1);
    for (;;) {
      const rows: Array<{ id: string; folio: string }> = await this.db.query(
        `SELECT b.id, b.folio FROM beneficiaries b WHERE b.program_id = $1 AND b.status = 'active' AND b.id > $2 AND ($4::uuid IS NULL OR b.import_id = $4)
            AND NOT EXISTS (SELECT 1 FROM instruments i WHERE i.beneficiary_id = b.id AND i.status IN ('issued', 'active', 'blocked'))
          ORDER BY b.id LIMIT $3`,
        [program.id, cursor, chunkSize, opts.importId ?? null],
      );
      if (!rows.length) break;
      cursor = rows[rows.length - 1].id;
      let ids: string[] = [];
      let numbers: string[] = [];
      for (let attempt = 0; ; attempt++) {
        ids = rows.map(() => nextInstrumentId());
        numbers = rows.map(() => generateInstrumentNumber());
        const hashes = numbers.map((n) => instrumentNumberHash(n, secret));
        try {
          await withTransaction(this.db, async (m) => {
            const accountIds = await this.ledger.ensureAccountsBulk(
              { category: 'instrument', programId: program.id, ownerType: 'instrument', currency: program.currency, noNegativeBalance: true },
              ids.map((id) => ({ id: nextAccountId(), code: `instrument:${id}`, name: `${kind} ${id}`, ownerId: id })),
              m,
            );
            await m.query(
              `INSERT INTO instruments (id, beneficiary_id, program_id, kind, number_hash, last4, status, pin_hash, expires_at, account_id, issued_at, delivered_at, created_by)
               SELECT t.id, t.beneficiary_id, $1, $2, t.number_hash, t.last4, $3, t.pin_hash, $4, t.account_id, $5, $6, $7
                 FROM unnest($8::uuid[], $9::uuid[], $10::text[], $11::text[], $12::text[], $13::uuid[])
                      AS t(id, beneficiary_id, number_hash, last4, pin_hash, account_id)`,
              [
                program.id,
                kind,
                opts.pin ? 'active' : 'issued',
                expiresAt,
                this.clock.now(),
                opts.pin ? this.clock.now() : null,
                opts.actor,
                ids,
                rows.map((r) => r.id),
                hashes,
                numbers.map((n) => n.slice(-4)),
                opts.pin ? hashes.map((h) => pinHash(h, opts.pin!, secret)) : rows.map(() => null),
                accountIds,
              ],
            );
          });
          break;
        } catch (error) {
          // A number collision (1 in ~10^9 per chunk) or a concurrent issue: redraw, or give up after 3 tries.
          if (sqlState(error) !== SQLSTATE.uniqueViolation || attempt >= 2) throw error;
        }
      }
      if (opts.onNumbers) await opts.onNumbers(rows.map((r, i) => ({ instrumentId: ids[i], folio: r.folio, number: numbers[i] })));
      issued += rows.length;
      opts.onProgress?.(issued, total);
    }
    return { issued, delivered: opts.pin ? issued : 0 };
  }
}
