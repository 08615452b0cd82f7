import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Seguro contra la Violencia Familiar S6 (issue 18): the data-only rule field
 * `monthlySignature { missedMonthsForBaja }`, read by no code, becomes a monthly obligation of
 * src/conditional (fixtures/programs/04-seguro-vf.json): signed by the end of each month, two
 * months in a row unsigned → baja breach_of_commitment. The field left the rules schema, so every
 * stored program that still carries it is rewritten the same way (or would no longer parse).
 */
export class SeguroSignatureObligation1764618000000 implements MigrationInterface {
  name = 'SeguroSignatureObligation1764618000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
UPDATE programs
   SET rules = (rules - 'monthlySignature') || jsonb_build_object('obligations', COALESCE(rules -> 'obligations', '[]'::jsonb) || jsonb_build_array(jsonb_build_object(
         'kind', 'monthly_signature',
         'label', 'firma del Listado de Entrega de Apoyo mensual (S5, S6)',
         'due', jsonb_build_object('by', 'period_end'),
         'missedInRowForBaja', (rules -> 'monthlySignature' ->> 'missedMonthsForBaja')::int,
         'bajaCause', 'breach_of_commitment',
         'curePaysMissed', false)))
 WHERE rules ? 'monthlySignature';
`);
  }

  async down(q: QueryRunner): Promise<void> {
    // Back to the old field for the programs whose only obligation is the monthly signature.
    await q.query(`
UPDATE programs
   SET rules = (rules - 'obligations') || jsonb_build_object('monthlySignature',
         jsonb_build_object('missedMonthsForBaja', (rules -> 'obligations' -> 0 ->> 'missedInRowForBaja')::int))
 WHERE jsonb_array_length(COALESCE(rules -> 'obligations', '[]'::jsonb)) = 1
   AND rules -> 'obligations' -> 0 ->> 'kind' = 'monthly_signature'
   AND rules -> 'split' IS NOT NULL;
`);
  }
}
