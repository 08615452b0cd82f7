import type { Queryable } from '../database/queryable';
import type { SupportHistoryRule } from '../programs/grant-rules';

/**
 * The SQL of the award checks that look at other awards (docs/grants.md "Who may get an award"):
 * a grantee's identity, and the earlier awards of the same grantee or its members, across the
 * lineage of a base code (every fiscal year) or across other programs.
 *
 * "The same grantee" is the same beneficiary record, or one with the same RFC (a collective) or
 * CURP (a person) in any program: a program-year enrols its grantees anew.
 */

export interface GranteeIdentity {
  beneficiaryId: string;
  kind: string;
  rfc: string | null;
  curp: string | null;
  /** Members' CURPs of a collective (empty for a person). */
  memberCurps: string[];
  constitutedOn: string | null;
}

/** The lineage (base code) of a program code: `FONAES-2013` → `FONAES`, in SQL. */
const BASE = (alias: string) => `regexp_replace(${alias}.code, '-[0-9]{4}$', '')`;

/** Beneficiaries that are this grantee: same record, RFC or CURP ($1 id, $2 rfc, $3 curp). */
const SAME_GRANTEE = `(b.id = $1 OR (b.rfc IS NOT NULL AND b.rfc = $2) OR (b.curp IS NOT NULL AND b.curp = $3))`;

/** The beneficiary locked for an award (FOR UPDATE), with its identity; null when not an active beneficiary of the program. */
export async function lockGrantee(q: Queryable, programId: string, beneficiaryId: string): Promise<GranteeIdentity | null> {
  const rows = await q.query(
    `SELECT id AS "beneficiaryId", kind, rfc, curp, to_char(constituted_on, 'YYYY-MM-DD') AS "constitutedOn"
       FROM beneficiaries WHERE id = $1 AND program_id = $2 AND status = 'active' FOR UPDATE`,
    [beneficiaryId, programId],
  );
  if (!rows[0]) return null;
  const members: Array<{ curp: string }> = await q.query(`SELECT curp FROM beneficiary_members WHERE beneficiary_id = $1 ORDER BY position`, [beneficiaryId]);
  return { ...rows[0], memberCurps: members.map((m) => m.curp) };
}

/**
 * Serialises awards that concern the same people (the grantee and its members), whatever the
 * program, so two concurrent awards cannot both pass the history checks. Locks in sorted order.
 */
export async function lockIdentities(q: Queryable, who: GranteeIdentity): Promise<void> {
  const keys = [...new Set([who.beneficiaryId, who.rfc, who.curp, ...who.memberCurps].filter((k): k is string => !!k))].sort();
  await q.query(`SELECT count(pg_advisory_xact_lock(hashtext('grant-identity'), hashtext(k))) FROM (SELECT k FROM unnest($1::text[]) AS k ORDER BY k) s`, [keys]);
}

/** An active grant of this beneficiary in the program (the one-active index), if any. */
export async function activeGrant(q: Queryable, programId: string, beneficiaryId: string): Promise<string | null> {
  const rows = await q.query(`SELECT id FROM grants WHERE program_id = $1 AND beneficiary_id = $2 AND status = 'active'`, [programId, beneficiaryId]);
  return rows[0]?.id ?? null;
}

/** A finished award (every tranche proven) of `stage` for this grantee in the lineage of `base`. */
export async function finishedStage(q: Queryable, who: GranteeIdentity, base: string, stage: string): Promise<boolean> {
  const rows = await q.query(
    `SELECT 1 FROM grants g JOIN beneficiaries b ON b.id = g.beneficiary_id JOIN programs p ON p.id = g.program_id
      WHERE ${SAME_GRANTEE} AND ${BASE('p')} = $4 AND g.stage = $5 AND g.status = 'finished' LIMIT 1`,
    [who.beneficiaryId, who.rfc, who.curp, base, stage],
  );
  return rows.length > 0;
}

/**
 * An earlier award of this grantee in the lineage whose proof is pending: an active grant with a
 * released tranche not proven, or a receivable (demand, rescission) not paid yet.
 */
export async function pendingProof(q: Queryable, who: GranteeIdentity, base: string): Promise<{ grantId: string; programCode: string } | null> {
  const rows = await q.query(
    `SELECT g.id AS "grantId", p.code AS "programCode"
       FROM grants g JOIN beneficiaries b ON b.id = g.beneficiary_id JOIN programs p ON p.id = g.program_id
      WHERE ${SAME_GRANTEE} AND ${BASE('p')} = $4
        AND ((g.status = 'active' AND EXISTS (SELECT 1 FROM grant_tranches t WHERE t.grant_id = g.id AND t.status = 'released'))
             OR EXISTS (SELECT 1 FROM grant_receivables r WHERE r.grant_id = g.id AND r.status <> 'paid'))
      ORDER BY g.created_at LIMIT 1`,
    [who.beneficiaryId, who.rfc, who.curp, base],
  );
  return rows[0] ?? null;
}

/**
 * An earlier award that a support-history rule counts against a new award (rules.supportHistory):
 * in the lineage or in other programs, in the rule's fiscal years, of the same stage or of the
 * listed stages, sharing the grantee (or a member) with the new grantee. An award rescinded
 * before any tranche was released does not count (nothing was received).
 */
export async function priorSupport(
  q: Queryable,
  rule: SupportHistoryRule,
  who: GranteeIdentity,
  at: { programId: string; base: string; fiscalYear: number; stage: string | null },
): Promise<{ grantId: string; programCode: string; fiscalYear: number; viaMember: boolean } | null> {
  const members = rule.who === 'grantee_and_members' ? who.memberCurps : [];
  const ids = [...new Set([who.rfc, who.curp, ...members].filter((k): k is string => !!k))];
  const rows = await q.query(
    `SELECT g.id AS "grantId", p.code AS "programCode", p.fiscal_year AS "fiscalYear",
            NOT (b.id = $1 OR (b.rfc IS NOT NULL AND b.rfc = $2) OR (b.curp IS NOT NULL AND b.curp = $3)) AS "viaMember"
       FROM grants g JOIN beneficiaries b ON b.id = g.beneficiary_id JOIN programs p ON p.id = g.program_id
      WHERE (CASE WHEN $4 = 'same_base' THEN ${BASE('p')} = $5 ELSE ${BASE('p')} <> $5 END)
        AND p.fiscal_year BETWEEN $6::int - $7::int AND $6::int - CASE WHEN $8 THEN 0 ELSE 1 END
        AND ($9::text IS NULL OR g.stage = $9)
        AND ($10::text[] IS NULL OR g.stage = ANY ($10::text[]))
        AND (g.status <> 'rescinded' OR EXISTS (SELECT 1 FROM grant_tranches t WHERE t.grant_id = g.id))
        AND (b.id = $1 OR b.rfc = ANY ($11::text[]) OR b.curp = ANY ($11::text[])
             OR ($12 AND EXISTS (SELECT 1 FROM beneficiary_members m WHERE m.beneficiary_id = b.id AND m.curp = ANY ($11::text[]))))
      ORDER BY p.fiscal_year DESC, g.created_at LIMIT 1`,
    [
      who.beneficiaryId,
      who.rfc,
      who.curp,
      rule.programs,
      at.base,
      at.fiscalYear,
      rule.fiscalYearsBefore,
      rule.currentFiscalYear,
      rule.sameStage ? at.stage : null,
      rule.stages ?? null,
      ids,
      rule.who === 'grantee_and_members',
    ],
  );
  return rows[0] ?? null;
}
