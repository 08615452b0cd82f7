import { randomUUID } from 'node:crypto';
import { money } from '../../src/common/money';
import { LedgerService } from '../../src/ledger/ledger.service';
import { createTestApp, TestApp } from '../support/app';
import { siblingTestDatabase } from '../support/integrity';
import { isolatedDatabase } from '../support/isolated-database';
import { createInstrument, createMerchant, createProgram, FixtureMerchant, FixtureProgram } from '../support/merchant-fixtures';

/**
 * Every cursor-paged list of the API (issue 22 item 0), paged through thousands of rows: each row
 * appears exactly once and in the list's order. The rows share timestamps (ties broken by the id)
 * and carry microseconds where the column can hold them; numeric ids cross digit boundaries (a
 * list ordered by the text of a number pages wrongly). The lists come from the OpenAPI document:
 * a new cursor-paged route without a case here fails the first test.
 */
const N = 2000;
const PAGE = 97;

describe('lists: every cursor-paged list pages through thousands of rows, each row once, in order', () => {
  let t: TestApp;
  let ledger: LedgerService;
  let program: FixtureProgram;
  let cyclesProgram: FixtureProgram;
  let shop: FixtureMerchant;
  let auditor: { auth: { Authorization: string } };
  let finance: { auth: { Authorization: string } };
  let officer: { auth: { Authorization: string } };
  let cycleId: string;
  let statementAccountId: string;
  let payoutBatchId: string;
  const arrearsProgramId = randomUUID();
  const saved = process.env.DATABASE_URL;

  beforeAll(async () => {
    // Unfiltered lists (programs, merchants, seals, events) must see only these rows.
    process.env.DATABASE_URL = await isolatedDatabase(siblingTestDatabase('paging'));
    t = await createTestApp({ now: new Date('2026-03-15T18:00:00.000Z') });
    ledger = t.app.get(LedgerService);
    const admin = await t.staff('admin');
    auditor = await t.staff('auditor');
    finance = await t.staff('finance_operator');
    officer = await t.staff('program_officer');
    program = await createProgram(t.db, ledger);
    cyclesProgram = await createProgram(t.db, ledger);
    shop = await createMerchant(t, admin);
    await seed();
  }, 300_000);
  afterAll(async () => {
    await t.close();
    process.env.DATABASE_URL = saved;
  });

  /** Timestamp of row i: pairs share an instant (ties), instants are microseconds apart. */
  const tsUs = `timestamptz '2026-03-01 12:00:00+00' + (i / 2) * interval '1 microsecond'`;
  /** The same at millisecond precision, for columns written from the service clock. */
  const tsMs = `timestamptz '2026-03-01 12:00:00+00' + (i / 2) * interval '1 millisecond'`;

  async function seed() {
    const db = t.db;
    // Journal entries for the reintegros (one each) and N postings on one account for its statement.
    const from = await ledger.ensureAccount({ code: `paging:${randomUUID()}:from`, name: 'paging source', category: 'treasury', normalSide: 'debit' });
    const to = await ledger.ensureAccount({ code: `paging:${randomUUID()}:to`, name: 'paging target', category: 'treasury', normalSide: 'debit' });
    statementAccountId = to.id;
    const entryIds: string[] = [];
    const one = money('1.00');
    for (let i = 0; i < N; i++) {
      const r = await ledger.post({
        kind: 'paging_test',
        effectiveAt: new Date(Date.UTC(2026, 2, 1, 12, 0, Math.floor(i / 4))), // four postings per second: ties on effective_at
        postings: [
          { accountId: from.id, side: 'credit', amount: one },
          { accountId: to.id, side: 'debit', amount: one },
        ],
      });
      entryIds.push(r.entryId);
    }
    const card = await createInstrument(db, ledger, program, { balance: '0' });

    await db.query(
      `INSERT INTO programs (id, code, name, fiscal_year, instrument_type, time_zone, rules, budget_account_id, reintegro_account_id)
       SELECT gen_random_uuid(), 'PG-' || i, 'paging', 2026, 'card', 'America/Mexico_City', '{}', $1, $2 FROM generate_series(1, $3) i`,
      [program.budgetAccountId, program.budgetAccountId, N],
    );
    await db.query(
      `INSERT INTO beneficiaries (id, program_id, folio, curp, given_names, surnames, birth_date, address, application_date, incorporated_on, status, created_at)
       SELECT gen_random_uuid(), $1, 'PF-' || i, 'PAGE' || lpad(i::text, 6, '0') || 'HDFXXX01', 'Ana', 'Paginada', '1950-01-01', '{"state":"DF"}',
              '2026-01-01', '2026-01-01', 'inactive', ${tsUs} FROM generate_series(1, $2) i`,
      [program.id, N],
    );
    cycleId = randomUUID();
    await db.query(
      `INSERT INTO disbursement_cycles (id, program_id, kind, period, payment_date, status, entry_kind, currency, control_count, control_total,
                                        chunk_size, budget_account_id, prepared_by, created_at)
       VALUES ($1, $2, 'deposit', '2026-03', '2026-03-01', 'completed', 'cycle_deposit', 'MXN', $3::int, $3::int, 10000, $4, 'paging', now())`,
      [cycleId, program.id, N, program.budgetAccountId],
    );
    await db.query(
      `INSERT INTO cycle_lines (cycle_id, line_no, beneficiary_id, instrument_id, account_id, amount, beneficiary_amount, insurer_amount)
       SELECT $1, row_number() OVER (ORDER BY b.folio), b.id, $2, $3, 1, 1, 0 FROM beneficiaries b WHERE b.program_id = $4`,
      [cycleId, card.id, card.accountId, program.id],
    );
    await db.query(
      `INSERT INTO disbursement_cycles (id, program_id, kind, period, payment_date, status, entry_kind, currency, control_count, control_total,
                                        chunk_size, budget_account_id, prepared_by, created_at)
       SELECT gen_random_uuid(), $1, 'deposit', to_char(date '2000-01-01' + (i % 97) * interval '1 month', 'YYYY-MM'), '2026-03-01', 'cancelled',
              'cycle_deposit', 'MXN', 0, 0, 10000, $2, 'paging', ${tsUs} FROM generate_series(1, $3) i`,
      [cyclesProgram.id, cyclesProgram.budgetAccountId, N],
    );
    await db.query(
      `INSERT INTO reintegros (program_id, cause, baja_cause, amount, source, journal_entry_id, created_at)
       SELECT $1, 'voucher_expiry', NULL, 1, 'voucher', e.id, ${tsUs} FROM unnest($2::uuid[]) WITH ORDINALITY AS e(id, i)`,
      [program.id, entryIds],
    );
    await db.query(
      `INSERT INTO remittances (number, program_id, currency, item_count, total, prepared_by, created_at)
       SELECT 'RM-P' || i, $1, 'MXN', 1, 1, 'paging', ${tsUs} FROM generate_series(1, $2) i`,
      [program.id, N],
    );
    const accounts = await ledger.ensureAccountsBulk(
      { category: 'merchant_payable' },
      Array.from({ length: N }, (_, i) => ({ code: `paging:merchant:${i}:${randomUUID()}`, name: `paging merchant ${i}` })),
    );
    await db.query(
      `INSERT INTO merchants (name, category, payable_account_id, created_at)
       SELECT 'Tienda ' || i, 'grocery', a.id, ${tsUs} FROM unnest($1::uuid[]) WITH ORDINALITY AS a(id, i)`,
      [accounts],
    );
    // The merchant's transactions: redemptions and refunds interleaved in time (the list is their union).
    await db.query(
      `INSERT INTO redemptions (id, merchant_id, instrument_id, program_id, instrument_last4, kind, status, amount, captured_amount, entry_id, created_at, captured_at)
       SELECT gen_random_uuid(), $1, $2, $3, '0000', 'direct', 'captured', 1, 1, $5, ${tsMs}, ${tsMs} FROM generate_series(1, $4) i`,
      [shop.id, card.id, program.id, N, entryIds[0]],
    );
    await db.query(
      `INSERT INTO redemption_refunds (id, redemption_id, merchant_id, amount, entry_id, created_at)
       SELECT gen_random_uuid(), r.id, $1, 1, $2, r.created_at FROM redemptions r WHERE r.merchant_id = $1 AND random() < 0.25`,
      [shop.id, entryIds[0]],
    );
    // Settlements: the shop has one per business date; two more merchants share some of those dates.
    await db.query(
      `INSERT INTO settlements (statement_id, merchant_id, business_date, cutoff_at, created_at)
       SELECT 'ST-' || m.n || '-' || i, m.id, date '2020-01-01' + i, now(), ${tsMs}
         FROM generate_series(1, $2) i
         CROSS JOIN LATERAL (SELECT 0 AS n, $1::uuid AS id UNION ALL
                             SELECT k, a.id FROM (SELECT id, row_number() OVER (ORDER BY id) AS k FROM merchants WHERE id <> $1 LIMIT 2) a
                              WHERE i % 4 = 0) m`,
      [shop.id, N],
    );
    await db.query(
      `INSERT INTO audit_seals (block_no, from_txid, from_seq, to_txid, to_seq, first_seq, last_seq, entry_count, horizon, entries_hash, prev_hash, hash, sealed_at)
       SELECT i, '1'::xid8, i, '1'::xid8, i, i, i, 1, '1'::xid8, md5(i::text), md5((i - 1)::text), md5('seal' || i), now() FROM generate_series(1, $1) i`,
      [N],
    );
    await db.query(
      `INSERT INTO audit_events (at, kind, actor_type, actor, method, route, action, status, outcome)
       SELECT ${tsUs}, 'request', 'staff', 'pager', 'POST', '/v1/x', 'POST /v1/x', 201, 'success'
         FROM generate_series(1, $1) i`,
      [N],
    );
    // Grants of the program (one per beneficiary), each with a receivable; due dates shared by three.
    const grantAccounts = await ledger.ensureAccountsBulk(
      { category: 'grant', programId: program.id },
      Array.from({ length: N }, (_, i) => ({ code: `paging:grant:${i}:${randomUUID()}`, name: `paging grant ${i}` })),
    );
    await db.query(
      `INSERT INTO grants (id, program_id, beneficiary_id, award_amount, plan, account_id, status, created_at)
       SELECT gen_random_uuid(), $1, b.id, 1, '[]', a.id, 'rescinded', ${tsUs}
         FROM (SELECT id, row_number() OVER (ORDER BY folio) AS i FROM beneficiaries WHERE program_id = $1) b
         JOIN unnest($2::uuid[]) WITH ORDINALITY AS a(id, i) USING (i)`,
      [program.id, grantAccounts],
    );
    await db.query(
      `INSERT INTO grant_receivables (grant_id, program_id, cause, amount, demanded_on, due_on, journal_entry_id, created_at)
       SELECT g.id, $1, 'rescission', 1, date '2026-01-01', date '2026-01-01' + (g.i / 3)::int, e.id, now()
         FROM (SELECT id, row_number() OVER (ORDER BY created_at, id) AS i FROM grants WHERE program_id = $1) g
         JOIN unnest($2::uuid[]) WITH ORDINALITY AS e(id, i) USING (i)`,
      [program.id, entryIds],
    );
    // Payout batches of the program (numbers from the batch sequence), one of them with N lines and N exclusions.
    await db.query(
      `INSERT INTO payout_batches (id, number, program_id, kind, status, currency, control_count, control_total, max_attempts,
                                   transit_account_id, bank_account_id, prepared_by, created_at)
       SELECT gen_random_uuid(), 'PB-' || lpad(nextval('payout_batch_number_seq')::text, 8, '0'), $1, 'beneficiaries', 'cancelled', 'MXN', 1, 1, 3,
              $2, $2, 'paging', ${tsUs} FROM generate_series(1, $3) i`,
      [program.id, program.budgetAccountId, N],
    );
    [{ id: payoutBatchId }] = await db.query(`SELECT id FROM payout_batches WHERE program_id = $1 ORDER BY number LIMIT 1`, [program.id]);
    await db.query(
      `INSERT INTO payout_lines (id, batch_id, line_no, source_account_id, payee_kind, payee_id, bank_owner_kind, bank_owner_id, bank_version,
                                 clabe, holder_name, amount, attempt, status)
       SELECT gen_random_uuid(), $1, i, gen_random_uuid(), 'beneficiary', gen_random_uuid(), 'beneficiary', gen_random_uuid(), 1,
              '032180000118359719', 'Ana Paginada', 1, 1, 'cancelled' FROM generate_series(1, $2) i`,
      [payoutBatchId, N],
    );
    await db.query(
      `INSERT INTO payout_exclusions (batch_id, source_account_id, payee_kind, payee_id, reason, amount)
       SELECT $1, gen_random_uuid(), 'beneficiary', gen_random_uuid(), 'missing_bank_account', 1 FROM generate_series(1, $2) i`,
      [payoutBatchId, N],
    );
    // Loans of the program (one per beneficiary, repaid: none waits in the approvals inbox), by number.
    await db.query(
      `INSERT INTO loans (id, number, program_id, beneficiary_id, principal, status, applied_on, applied_by, applied_at, disbursed_at, disbursed_on, repaid)
       SELECT gen_random_uuid(), 'LN-' || lpad(nextval('loan_number_seq')::text, 8, '0'), $1, b.id, 1, 'repaid', date '2026-03-01', 'paging', now(), now(), date '2026-03-01', 1
         FROM beneficiaries b WHERE b.program_id = $1`,
      [program.id],
    );
    // Complaints of the program (issue 20), ordered newest first; all open and overdue on five due
    // dates (the overdue report pages by due date then folio), each with an open commitment.
    await db.query(
      `INSERT INTO complaints (folio, program_id, channel, subject, description, area, owner, received_on, steps, deadline_rule, due_on, created_by, created_at)
       SELECT 'PAGING-' || $2::text || '-' || i, $1, 'phone', 'card_balance', 'paging', 'atención', 'paging', date '2026-03-01', '[]', 'paging',
              date '2026-03-13' - i % 5, 'paging', ${tsMs} FROM generate_series(1, $3) i`,
      [program.id, randomUUID(), N],
    );
    await db.query(
      `INSERT INTO complaint_commitments (complaint_id, commitment_no, description, due_on)
       SELECT id, 1 + (row_number() OVER (ORDER BY id)) % 2, 'paging', date '2026-03-20' + ((row_number() OVER (ORDER BY id)) % 3)::int FROM complaints WHERE program_id = $1`,
      [program.id],
    );
    // Money owed: N/2 beneficiaries without a card, two deposit cycles run → N owed periods.
    await db.query(
      `INSERT INTO programs (id, code, name, fiscal_year, instrument_type, time_zone, rules, budget_account_id, reintegro_account_id)
       VALUES ($1, 'PG-ARREARS-2026', 'paging arrears', 2026, 'card', 'America/Mexico_City', $2, $3, $3)`,
      [arrearsProgramId, JSON.stringify({ benefit: { type: 'fixed', amount: '1.00' }, schedule: { frequency: 'monthly', dayOfMonth: 1 } }), program.budgetAccountId],
    );
    await db.query(
      `INSERT INTO beneficiaries (id, program_id, folio, curp, given_names, surnames, birth_date, address, application_date, incorporated_on, created_at)
       SELECT gen_random_uuid(), $1, 'PA-' || i, 'PAGA' || lpad(i::text, 6, '0') || 'HDFXXX01', 'Ana', 'Debida', '1950-01-01', '{"state":"DF"}',
              '2026-01-01', '2026-01-01', ${tsUs} FROM generate_series(1, $2) i`,
      [arrearsProgramId, N / 2],
    );
    await db.query(
      `INSERT INTO disbursement_cycles (id, program_id, kind, period, payment_date, status, entry_kind, currency, control_count, control_total,
                                        chunk_size, budget_account_id, prepared_by, created_at)
       SELECT gen_random_uuid(), $1, 'deposit', p, (p || '-01')::date, 'completed', 'cycle_deposit', 'MXN', 0, 0, 10000, $2, 'paging', now()
         FROM unnest(ARRAY['2026-01', '2026-02']) p`,
      [arrearsProgramId, program.budgetAccountId],
    );
    // The waiting list: N applicants, pairs filed on the same day (ties broken by created_at, id).
    await db.query(
      `INSERT INTO waiting_list (id, program_id, curp, application_date, applicant, status, created_by, created_at)
       SELECT gen_random_uuid(), $1, 'WAIT' || lpad(i::text, 6, '0') || 'HDFXXX01', date '2025-01-01' + (i / 2), '{"givenNames": "Ana", "surnames": "Espera"}',
              'waiting', 'paging', ${tsUs} FROM generate_series(1, $2) i`,
      [program.id, N],
    );
    await db.query('ANALYZE');
  }

  interface ListCase {
    /** The path as the OpenAPI document names it. */
    route: string;
    path: () => string;
    query?: Record<string, string>;
    auth: () => Record<string, string>;
    /** The rows' identities in the list's order, straight from the tables. */
    expected: () => Promise<string[]>;
    id: (row: Record<string, any>) => string;
    rows?: 'data' | 'lines';
  }

  const ids = async (sql: string, params: unknown[] = []) => (await t.db.query(sql, params)).map((r: { id: string }) => String(r.id));

  const cases: ListCase[] = [
    {
      route: '/v1/programs',
      path: () => '/v1/programs',
      auth: () => auditor.auth,
      expected: () => ids(`SELECT code AS id FROM programs ORDER BY code`),
      id: (r) => r.code,
    },
    {
      route: '/v1/programs/{id}/beneficiaries',
      path: () => `/v1/programs/${program.id}/beneficiaries`,
      auth: () => auditor.auth,
      expected: () => ids(`SELECT folio AS id FROM beneficiaries WHERE program_id = $1 ORDER BY folio`, [program.id]),
      id: (r) => r.folio,
    },
    {
      route: '/v1/programs/{id}/waiting-list',
      path: () => `/v1/programs/${program.id}/waiting-list`,
      auth: () => officer.auth,
      expected: () => ids(`SELECT id FROM waiting_list WHERE program_id = $1 AND status = 'waiting' ORDER BY application_date, created_at, id`, [program.id]),
      id: (r) => r.id,
    },
    {
      route: '/v1/programs/{id}/arrears',
      path: () => `/v1/programs/${arrearsProgramId}/arrears`,
      auth: () => auditor.auth,
      expected: () =>
        ids(`SELECT b.id || ':' || p AS id FROM beneficiaries b CROSS JOIN unnest(ARRAY['2026-01', '2026-02']) p WHERE b.program_id = $1 ORDER BY b.id, p`, [arrearsProgramId]),
      id: (r) => `${r.beneficiaryId}:${r.period}`,
    },
    {
      route: '/v1/cycles/{id}/lines',
      path: () => `/v1/cycles/${cycleId}/lines`,
      auth: () => auditor.auth,
      expected: () => ids(`SELECT line_no AS id FROM cycle_lines WHERE cycle_id = $1 ORDER BY line_no`, [cycleId]),
      id: (r) => String(r.lineNo),
    },
    {
      route: '/v1/console/programs/{id}/cycles',
      path: () => `/v1/console/programs/${cyclesProgram.id}/cycles`,
      auth: () => auditor.auth,
      expected: () => ids(`SELECT id FROM disbursement_cycles WHERE program_id = $1 ORDER BY period DESC, created_at DESC, id DESC`, [cyclesProgram.id]),
      id: (r) => r.id,
    },
    {
      route: '/v1/console/programs/{id}/loans',
      path: () => `/v1/console/programs/${program.id}/loans`,
      auth: () => auditor.auth,
      expected: () => ids(`SELECT number AS id FROM loans WHERE program_id = $1 ORDER BY number`, [program.id]),
      id: (r) => r.number,
    },
    {
      route: '/v1/console/approvals',
      path: () => '/v1/console/approvals',
      query: { programId: '' },
      auth: () => auditor.auth,
      expected: () =>
        ids(
          `SELECT id FROM (SELECT 'cycle' AS kind, id, created_at FROM disbursement_cycles WHERE program_id = $1 AND status = 'draft'
                           UNION ALL SELECT 'remittance', id, created_at FROM remittances WHERE program_id = $1 AND status = 'draft'
                           UNION ALL SELECT 'payout_batch', id, created_at FROM payout_batches WHERE program_id = $1 AND status = 'draft') d
            ORDER BY created_at, kind, id`,
          [program.id],
        ),
      id: (r) => r.id,
    },
    {
      route: '/v1/reintegros',
      path: () => '/v1/reintegros',
      query: { programId: '' },
      auth: () => auditor.auth,
      expected: () => ids(`SELECT id FROM reintegros WHERE program_id = $1 ORDER BY created_at, id`, [program.id]),
      id: (r) => r.id,
    },
    {
      route: '/v1/remittances',
      path: () => '/v1/remittances',
      query: { programId: '' },
      auth: () => auditor.auth,
      expected: () => ids(`SELECT id FROM remittances WHERE program_id = $1 ORDER BY created_at, id`, [program.id]),
      id: (r) => r.id,
    },
    {
      route: '/v1/merchants',
      path: () => '/v1/merchants',
      auth: () => auditor.auth,
      expected: () => ids(`SELECT id FROM merchants ORDER BY created_at, id`),
      id: (r) => r.id,
    },
    {
      route: '/v1/merchant/transactions',
      path: () => '/v1/merchant/transactions',
      auth: () => shop.headers,
      expected: () =>
        ids(
          `SELECT id FROM (SELECT id, created_at FROM redemptions WHERE merchant_id = $1
                           UNION ALL SELECT id, created_at FROM redemption_refunds WHERE merchant_id = $1) t ORDER BY created_at, id`,
          [shop.id],
        ),
      id: (r) => r.id,
    },
    {
      route: '/v1/merchant/settlements',
      path: () => '/v1/merchant/settlements',
      auth: () => shop.headers,
      expected: () => ids(`SELECT id FROM settlements WHERE merchant_id = $1 ORDER BY created_at, id`, [shop.id]),
      id: (r) => r.id,
    },
    {
      route: '/v1/settlements',
      path: () => '/v1/settlements',
      auth: () => finance.auth,
      expected: () => ids(`SELECT id FROM settlements ORDER BY business_date DESC, statement_id`),
      id: (r) => r.id,
    },
    {
      route: '/v1/audit/seals',
      path: () => '/v1/audit/seals',
      auth: () => auditor.auth,
      expected: () => ids(`SELECT block_no AS id FROM audit_seals ORDER BY block_no`),
      id: (r) => String(r.blockNo),
    },
    {
      route: '/v1/audit/events',
      path: () => '/v1/audit/events',
      auth: () => auditor.auth,
      expected: () => ids(`SELECT id FROM audit_events ORDER BY id DESC`),
      id: (r) => r.id,
    },
    {
      route: '/v1/programs/{id}/grant-funding',
      path: () => `/v1/programs/${program.id}/grant-funding`,
      auth: () => auditor.auth,
      expected: () => ids(`SELECT id FROM grants WHERE program_id = $1 ORDER BY created_at, id`, [program.id]),
      id: (r) => r.grantId,
    },
    {
      route: '/v1/complaints',
      path: () => '/v1/complaints',
      query: { programId: '' },
      auth: () => auditor.auth,
      expected: () => ids(`SELECT id FROM complaints WHERE program_id = $1 ORDER BY created_at DESC, id DESC`, [program.id]),
      id: (r) => r.id,
    },
    {
      route: '/v1/complaints/report/overdue',
      path: () => '/v1/complaints/report/overdue',
      query: { programId: '' },
      auth: () => auditor.auth,
      expected: () => ids(`SELECT folio AS id FROM complaints WHERE program_id = $1 AND status = 'open' AND due_on < date '2026-03-15' ORDER BY due_on, folio`, [program.id]),
      id: (r) => r.folio,
    },
    {
      route: '/v1/complaints/report/open-commitments',
      path: () => '/v1/complaints/report/open-commitments',
      query: { programId: '' },
      auth: () => auditor.auth,
      expected: () =>
        ids(
          `SELECT c.folio || '#' || k.commitment_no AS id FROM complaint_commitments k JOIN complaints c ON c.id = k.complaint_id
            WHERE c.program_id = $1 AND k.fulfilled_on IS NULL ORDER BY k.due_on, c.folio, k.commitment_no`,
          [program.id],
        ),
      id: (r) => `${r.folio}#${r.commitmentNo}`,
    },
    {
      route: '/v1/grant-receivables',
      path: () => '/v1/grant-receivables',
      query: { programId: '' },
      auth: () => auditor.auth,
      expected: () => ids(`SELECT id FROM grant_receivables WHERE program_id = $1 ORDER BY due_on, id`, [program.id]),
      id: (r) => r.id,
    },
    {
      route: '/v1/payout-batches',
      path: () => '/v1/payout-batches',
      query: { programId: '' },
      auth: () => auditor.auth,
      expected: () => ids(`SELECT number AS id FROM payout_batches WHERE program_id = $1 ORDER BY number`, [program.id]),
      id: (r) => r.number,
    },
    {
      route: '/v1/payout-batches/{id}',
      path: () => `/v1/payout-batches/${payoutBatchId}`,
      auth: () => auditor.auth,
      expected: () => ids(`SELECT line_no AS id FROM payout_lines WHERE batch_id = $1 ORDER BY line_no`, [payoutBatchId]),
      id: (r) => String(r.lineNo),
      rows: 'lines',
    },
    {
      route: '/v1/payout-batches/{id}/exclusions',
      path: () => `/v1/payout-batches/${payoutBatchId}/exclusions`,
      auth: () => auditor.auth,
      expected: () => ids(`SELECT source_account_id AS id FROM payout_exclusions WHERE batch_id = $1 ORDER BY source_account_id`, [payoutBatchId]),
      id: (r) => r.sourceAccountId,
    },
    {
      route: '/v1/accounts/{id}/statement',
      path: () => `/v1/accounts/${statementAccountId}/statement`,
      auth: () => auditor.auth,
      expected: () => ids(`SELECT id FROM postings WHERE account_id = $1 ORDER BY effective_at, id`, [statementAccountId]),
      id: (r) => r.postingId,
      rows: 'lines',
    },
  ];

  it('covers every GET route of the OpenAPI document that takes a cursor', async () => {
    const doc = (await t.http.get('/docs-json').expect(200)).body;
    const paged = Object.entries(doc.paths as Record<string, Record<string, { parameters?: Array<{ name: string; in: string }> }>>)
      .filter(([, ops]) => ops.get?.parameters?.some((p) => p.in === 'query' && p.name === 'cursor'))
      .map(([path]) => path)
      .sort();
    expect(paged).toEqual(cases.map((c) => c.route).sort());
  });

  it.each(cases.map((c) => [c.route, c] as const))('%s', async (_route, c) => {
    const query = Object.fromEntries(Object.entries(c.query ?? {}).map(([k, v]) => [k, v || (k === 'programId' ? program.id : v)]));
    const expected = await c.expected();
    expect(expected.length).toBeGreaterThanOrEqual(N);
    const seen: string[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const res = await t.http
        .get(c.path())
        .query({ ...query, limit: PAGE, ...(cursor ? { cursor } : {}) })
        .set(c.auth());
      expect({ status: res.status, body: res.status === 200 ? null : res.body }).toEqual({ status: 200, body: null });
      const rows = res.body[c.rows ?? 'data'] as Array<Record<string, any>>;
      expect(rows.length).toBeLessThanOrEqual(PAGE);
      seen.push(...rows.map(c.id));
      cursor = res.body.nextCursor ?? undefined;
      pages++;
      expect(pages).toBeLessThanOrEqual(Math.ceil(expected.length / PAGE) + 1);
    } while (cursor);
    expect(new Set(seen).size).toBe(seen.length); // each row once
    expect(seen).toEqual(expected); // every row, in order
  });
});
