import { parse } from 'csv-parse/sync';
import pino from 'pino';
import { REDACTED_PATHS } from '../../src/app.module';
import { ApiProblem } from '../../src/common/problem';
import { readProgramFixtures } from '../../src/programs/program-fixtures';
import { ProgramRules } from '../../src/programs/program-rules';
import { clabeCheckDigit, clabeProblem, isValidClabe, maskClabe } from '../../src/payouts/clabe.rules';
import {
  assertDistinctLines,
  bankOwnerKind,
  isBankPaid,
  lineReference,
  maxAttempts,
  parseResultsCsv,
  parseResultsJson,
  renderBankFile,
} from '../../src/payouts/payouts.rules';

const fixture = (base: string) => readProgramFixtures().find((f) => f.base === base)!;
const LINE = '0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b';

describe('CLABE', () => {
  it('check digit with weights 3, 7, 1 (a published example and single-digit changes)', () => {
    expect(clabeCheckDigit('03218000011835971')).toBe(9);
    expect(isValidClabe('032180000118359719')).toBe(true);
    // Any single wrong digit is caught.
    for (let i = 0; i < 18; i++) {
      const digits = '032180000118359719'.split('');
      digits[i] = String((Number(digits[i]) + 1) % 10);
      expect(isValidClabe(digits.join(''))).toBe(false);
    }
    expect(clabeProblem('03218000011835971')).toMatch(/18 digits/);
    expect(clabeProblem('03218000011835971X')).toMatch(/18 digits/);
    expect(clabeProblem(32180000118359719)).toMatch(/string/);
    expect(clabeProblem('032180000118359718')).toMatch(/check digit/);
  });

  it('is masked to its last four digits', () => {
    expect(maskClabe('032180000118359719')).toBe('**************9719');
  });

  it('is never logged whole: the logger redacts every clabe field', () => {
    const lines: string[] = [];
    const log = pino({ redact: { paths: REDACTED_PATHS, censor: '[redacted]' } }, { write: (l: string) => lines.push(l) });
    log.info({ body: { clabe: '032180000118359719', holderName: 'ANA' } }, 'bank details');
    expect(lines.join('')).not.toContain('032180000118359719');
    expect(JSON.parse(lines[0]).body).toEqual({ clabe: '[redacted]', holderName: 'ANA' });
  });

  it('S9: the insurer of the Seguro fixture is a placeholder with a valid CLABE; a split with a premium needs an insurer', () => {
    const seguro = fixture('SEGURO-VF').rules;
    expect(isValidClabe(seguro.insurer!.clabe)).toBe(true);
    const { insurer: _none, ...withoutInsurer } = seguro;
    expect(ProgramRules.safeParse(withoutInsurer).success).toBe(false);
    expect(ProgramRules.safeParse({ ...seguro, insurer: { name: 'X', clabe: '032180000118359718' } }).success).toBe(false);
  });
});

describe('programs paid through a bank', () => {
  it('S-bank, SD-bank, COOP-8, R000-05: Seguro (bank account), Desempleo (bank card), Cooperativas (transfers), Reinserción (rent, design decision), PACTyFP (its suppliers), Coinversión and PROFAIS (OSC accounts), the loan programs (disbursed to the borrower) and Comedores Comunitarios (each comedor account) are bank-paid; Pensión is not', () => {
    const bankPaid = readProgramFixtures().filter((f) => isBankPaid(f)).map((f) => f.base);
    expect(bankPaid).toEqual(['SEGURO-VF', 'DESEMPLEO', 'COOPERATIVAS', 'FONDESOC', 'REINSERCION', 'PACTYFP', 'COINVERSION', 'PROFAIS', 'CALI-FONDO-SOLIDARIO', 'COMEDORES-COMUNITARIOS']);
  });

  it('rules.payout.maxAttempts, default 3', () => {
    expect(maxAttempts(fixture('SEGURO-VF').rules)).toBe(3);
    expect(maxAttempts(fixture('DESEMPLEO').rules)).toBe(3);
    expect(maxAttempts({ payout: { method: 'bank', maxAttempts: 1 } })).toBe(1);
  });

  it('beneficiaries, grantees and borrowers are paid to their padrón bank details; insurers and suppliers to their own', () => {
    expect(['beneficiary', 'grantee', 'borrower', 'insurer', 'supplier'].map((k) => bankOwnerKind(k as never))).toEqual([
      'beneficiary', 'beneficiary', 'beneficiary', 'insurer', 'supplier',
    ]);
  });
});

describe('the bank file', () => {
  const lines = [
    { lineId: LINE, clabe: '032180000118359719', holderName: 'Rosa María Hernández, "La Güera"', amount: '1500.00', reference: lineReference('PB-00000007', 1) },
    { lineId: '0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5c', clabe: '999000000000000001', holderName: '=HYPERLINK("x")', amount: '37.5', reference: lineReference('PB-00000007', 2) },
  ];

  it('is UTF-8 CSV with a header, one line per transfer and a totals line, and the same bytes every time', () => {
    const a = renderBankFile('PB-00000007', lines, '1537.50');
    const b = renderBankFile('PB-00000007', lines.map((l) => ({ ...l })), '1537.50');
    expect(a.equals(b)).toBe(true);
    const text = a.toString('utf8');
    expect(text.charCodeAt(0)).not.toBe(0xfeff);
    expect(text.endsWith('\r\n')).toBe(true);
    const rows = parse(text) as string[][];
    expect(rows[0]).toEqual(['line_id', 'clabe', 'holder', 'amount', 'reference']);
    expect(rows[1]).toEqual([LINE, '032180000118359719', 'Rosa María Hernández, "La Güera"', '1500.00', 'PB-00000007-000001']);
    // A spreadsheet never runs a holder name as a formula.
    expect(rows[2][2]).toBe(`'=HYPERLINK("x")`);
    expect(rows[2][3]).toBe('37.50');
    expect(rows[3]).toEqual(['TOTAL', '', '2', '1537.50', 'PB-00000007']);
  });
});

describe('the bank results', () => {
  it('CSV: header with line_id and status, optional reason and amount, totals line skipped', () => {
    const csv = `line_id,status,reason,amount\r\n${LINE},rejected,cuenta cancelada,1500.00\r\n${LINE.replace(/b$/, 'c')},paid,,\r\nTOTAL,,2,1537.00,PB-00000007\r\n`;
    expect(parseResultsCsv(csv)).toEqual([
      { lineId: LINE, status: 'rejected', reason: 'cuenta cancelada', amount: '1500.00' },
      { lineId: LINE.replace(/b$/, 'c'), status: 'paid', reason: null, amount: null },
    ]);
  });

  it('refuses what is not a result: 400, never a partial import', () => {
    const bad = (f: () => unknown) => {
      try {
        f();
      } catch (error) {
        return (error as ApiProblem).code;
      }
      return 'accepted';
    };
    expect(bad(() => parseResultsCsv('status\r\npaid\r\n'))).toBe('validation_failed');
    expect(bad(() => parseResultsCsv(`line_id,status\r\n${LINE},maybe\r\n`))).toBe('validation_failed');
    expect(bad(() => parseResultsCsv(`line_id,status\r\nnot-a-uuid,paid\r\n`))).toBe('validation_failed');
    expect(bad(() => parseResultsCsv(`line_id,status,amount\r\n${LINE},paid,1.005\r\n`))).toBe('invalid_amount');
    expect(bad(() => parseResultsCsv('line_id,status\r\n"unterminated,paid\r\n'))).toBe('validation_failed');
    expect(bad(() => parseResultsJson({}))).toBe('validation_failed');
    expect(bad(() => parseResultsJson([]))).toBe('validation_failed');
    expect(bad(() => parseResultsJson([{ lineId: LINE, status: 'paid', extra: 1 }]))).toBe('validation_failed');
    expect(bad(() => parseResultsJson([{ lineId: LINE, status: 'paid', amount: 1500 }]))).toBe('invalid_amount');
    expect(bad(() => assertDistinctLines(parseResultsJson([{ lineId: LINE, status: 'paid' }, { lineId: LINE, status: 'rejected' }])))).toBe('duplicate_result_line');
    expect(parseResultsJson([{ lineId: LINE.toUpperCase(), status: 'rejected', reason: ' sin fondos ' }])).toEqual([
      { lineId: LINE, status: 'rejected', reason: 'sin fondos', amount: null },
    ]);
  });
});
