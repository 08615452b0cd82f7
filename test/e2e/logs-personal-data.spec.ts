import { randomUUID } from 'node:crypto';
import { Logger, PinoLogger } from 'nestjs-pino';
import pino from 'pino';
import { buildCurp } from '../../src/beneficiaries/curp.rules';
import { readProgramFixtures } from '../../src/programs/program-fixtures';
import { createTestApp, TestApp } from '../support/app';
import { siblingTestDatabase } from '../support/integrity';
import { isolatedDatabase } from '../support/isolated-database';

/**
 * Issue 22 item 2: no log line carries a CURP, a name, a birth date, an address, a card number, a
 * CLABE, a PIN, an API key, a password or a token, whatever the error. Every write route of the
 * published OpenAPI document is called with personal data in its body (path ids of real records,
 * so the requests get past their lookups) while every table refuses writes with a database error
 * that, like PostgreSQL's own constraint errors, carries the failing row in its DETAIL. The log
 * output, captured where pino writes it, must hold none of the personal data.
 * On a database of its own: the failing triggers must not reach other test files.
 */
const pension = readProgramFixtures().find((f) => f.base === 'PENSION-AM')!;

const BIRTH_DATE = '1943-07-19';
const PERSON = {
  curp: buildCurp({ givenNames: 'Hortensia', firstSurname: 'Zumarraga', secondSurname: 'Quintanilla', birthDate: BIRTH_DATE, sex: 'M', state: 'DF', homoclave: '7' }),
  givenNames: 'Hortensia',
  surnames: 'Zumarraga Quintanilla',
  birthDate: BIRTH_DATE,
  address: { street: 'Callejon del Secreto 742', colonia: 'Colonia Escondida', municipality: 'Cuauhtemoc', state: 'DF', postalCode: '06720' },
  applicationDate: '2016-03-01',
  attributes: { residenceSince: '1990-01-01' },
};
const PIN = '739164';
const CLABE = '002010077777777771';
const PASSWORD = 'Zafiro passphrase 4471';

describe('logs carry no personal data, whatever the database error (issue 22 item 2)', () => {
  let t: TestApp;
  const saved = process.env.DATABASE_URL;
  const captured: string[] = [];
  let restoreStream: () => void = () => undefined;

  beforeAll(async () => {
    process.env.DATABASE_URL = await isolatedDatabase(siblingTestDatabase('logs'));
    t = await createTestApp({ now: new Date('2016-06-15T17:00:00Z') });
  }, 60000);

  afterAll(async () => {
    restoreStream();
    await t?.close();
    process.env.DATABASE_URL = saved;
  });

  /**
   * Everything written from now on (after level, serializers and redaction) by both pino loggers:
   * nestjs-pino's root (request lines) and the one behind Nest's Logger (ProblemFilter, services).
   */
  function captureLogs(): void {
    type Sink = pino.Logger & Record<symbol, { write(line: string): boolean }>;
    const loggers = [PinoLogger.root, (t.app.get(Logger) as unknown as { logger: PinoLogger }).logger.logger] as Sink[];
    const restores = loggers.map((logger) => {
      const stream = logger[pino.symbols.streamSym];
      const write = stream.write;
      const level = logger.level;
      logger.level = 'info';
      stream.write = (line: string) => {
        captured.push(line);
        return true;
      };
      return () => {
        stream.write = write;
        logger.level = level;
      };
    });
    restoreStream = () => restores.forEach((restore) => restore());
  }

  it('provokes a database error on every write route and finds no personal data in the log', async () => {
    // Records with personal data, made while the database still accepts writes.
    const admin = await t.staff('admin');
    const officer = await t.staff('program_officer');
    const operator = await t.staff('finance_operator');
    const code = `LOGS-${randomUUID().slice(0, 6).toUpperCase().replace(/[^A-Z0-9]/g, 'X')}`;
    const program = (await t.http.post('/v1/programs').set(admin.auth).send({ code, name: pension.name, fiscalYear: 2016, instrumentType: 'card', rules: pension.rules }).expect(201)).body;
    await t.http.post(`/v1/programs/${program.id}/appropriations`).set(operator.auth).set('Idempotency-Key', randomUUID()).send({ amount: '100000.00', reference: 'seed' }).expect(201);
    const beneficiary = (await t.http.post(`/v1/programs/${program.id}/beneficiaries`).set(officer.auth).send(PERSON).expect(201)).body;
    const issued = (await t.http.post(`/v1/beneficiaries/${beneficiary.id}/instruments`).set(officer.auth).expect(201)).body;
    await t.http.post(`/v1/instruments/${issued.id}/deliver`).set(officer.auth).send({ pin: PIN }).expect(200);
    const merchant = (await t.http.post('/v1/merchants').set(admin.auth).send({ name: 'Abarrotes Hortensia', category: 'grocery', address: PERSON.address, bankAccount: CLABE }).expect(201)).body;
    const cycle = (await t.http.post(`/v1/programs/${program.id}/cycles`).set(operator.auth).set('Idempotency-Key', randomUUID()).send({ period: '2016-07', kind: 'deposit' }).expect(201)).body;
    const victim = await t.staff('auditor');

    const ids: Record<string, string> = {
      programs: program.id,
      beneficiaries: beneficiary.id,
      instruments: issued.id,
      merchants: merchant.id,
      'api-keys': merchant.apiKeyId,
      cycles: cycle.id,
      'staff-users': victim.id,
    };
    const values: Record<string, unknown> = {
      ...PERSON,
      pin: PIN,
      instrumentNumber: issued.number,
      bankAccount: CLABE,
      password: PASSWORD,
      currentPassword: PASSWORD,
      newPassword: PASSWORD,
      username: victim.username,
      name: 'Abarrotes Hortensia',
      reference: PERSON.curp,
      note: PERSON.address.street,
      description: PERSON.address.street,
      label: 'Caja Hortensia',
      batch: 'lote 1',
      amount: '10.00',
      awardAmount: '1000.00',
      period: '2016-08',
      kind: 'deposit',
      cause: 'death',
      effectiveDate: '2016-06-01',
      category: 'grocery',
      code: `${code}-2`,
      fiscalYear: 2016,
      instrumentType: 'card',
      rules: pension.rules,
      programId: program.id,
      beneficiaryId: beneficiary.id,
      instrumentIds: [issued.id],
      arrivedOn: '2016-06-01',
      visitedAt: '2016-06-01T16:30:00Z',
      businessDate: '2016-06-01',
      documents: [{ reference: PERSON.curp }],
    };
    const doc = (await t.http.get('/docs-json').expect(200)).body;

    // From here on every table refuses writes, showing the failing row as PostgreSQL's constraint
    // errors do. Idempotency records stay writable so money routes reach their own writes.
    await t.db.query(`
      CREATE FUNCTION logs_test_refuse_writes() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        RAISE EXCEPTION 'writes refused by the log test' USING ERRCODE = 'XX000', DETAIL = 'Failing row contains ' || row_to_json(coalesce(NEW, OLD))::text;
      END $$;
      DO $$ DECLARE r record; BEGIN
        FOR r IN SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename <> 'idempotency_keys' AND tablename NOT LIKE 'migrations%' LOOP
          EXECUTE format('CREATE TRIGGER logs_test_refuse_writes BEFORE INSERT OR UPDATE OR DELETE ON %I FOR EACH ROW EXECUTE FUNCTION logs_test_refuse_writes()', r.tablename);
        END LOOP;
      END $$`);

    captureLogs();
    const outcomes: string[] = [];
    for (const [path, ops] of Object.entries<Record<string, any>>(doc.paths)) {
      for (const [method, op] of Object.entries<any>(ops)) {
        if (method === 'get') continue;
        const url = path.replace(/([\w-]+)\/\{(\w+)\}/g, (_m, segment: string, param: string) => `${segment}/${param === 'n' ? '1' : (ids[segment] ?? randomUUID())}`);
        const ref: string | undefined = op.requestBody?.content?.['application/json']?.schema?.$ref;
        const schema = ref ? doc.components.schemas[ref.split('/').pop()!] : { properties: {} };
        const body = Object.fromEntries(Object.keys(schema.properties ?? {}).filter((p) => p in values).map((p) => [p, values[p]]));
        const merchantRoute = (op.security ?? []).some((s: Record<string, unknown>) => 'merchant-key' in s);
        let req = (t.http as any)[method](url).set('Idempotency-Key', randomUUID()).set('X-Forwarded-For', '203.0.113.7');
        req = merchantRoute ? req.set('X-Api-Key', merchant.apiKey) : req.set(path === '/v1/auth/password' ? victim.auth : admin.auth);
        const res = await req.send(body);
        outcomes.push(`${res.status} ${method.toUpperCase()} ${path} ${res.body?.code ?? ''}`);
      }
    }
    // Audit events are written after the response: let the last ones fail and log.
    await new Promise((r) => setTimeout(r, 300));
    restoreStream();

    const failed = outcomes.filter((o) => o.startsWith('500'));
    // The database errors were really provoked, on most write routes, and logged.
    expect(failed.length).toBeGreaterThanOrEqual(20);
    const errorLines = captured.filter((l) => JSON.parse(l).level >= 50);
    expect(errorLines.length).toBeGreaterThanOrEqual(failed.length);
    expect(captured.join('')).toContain('writes refused by the log test');

    const secrets: Record<string, string> = {
      CURP: PERSON.curp,
      'given names': PERSON.givenNames,
      surname: 'Zumarraga',
      'birth date': BIRTH_DATE,
      street: 'Callejon del Secreto',
      colonia: 'Colonia Escondida',
      'postal code': PERSON.address.postalCode,
      'card number': issued.number,
      'card number (last 12)': issued.number.slice(4),
      CLABE,
      PIN,
      password: PASSWORD,
      'API key': merchant.apiKey,
      'admin token': admin.token,
      'token signature': admin.token.split('.')[2],
      'victim token': victim.token,
    };
    const leaks = Object.entries(secrets)
      .filter(([, secret]) => captured.some((line) => line.includes(secret)))
      .map(([what]) => `${what}: ${captured.find((line) => line.includes(secrets[what]))!.slice(0, 300)}`);
    expect(leaks).toEqual([]);
  }, 120000);
});
