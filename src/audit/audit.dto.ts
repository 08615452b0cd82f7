import { ApiPropertyOptional, IntersectionType } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsOptional, Matches } from 'class-validator';
import { emptyAsAbsent, ListQuery } from '../common/pagination';
import { EXECUTION_DIMENSIONS, ExecutionDimension } from './execution.rules';
import { CsvFormatQuery, OptionalDate, OptionalEnum, OptionalText, OptionalTimeBound, OptionalUuid } from '../common/query-params';

export class TrialBalanceQuery extends CsvFormatQuery {
  @OptionalTimeBound('YYYY-MM-DD (end of that day, service time zone) or an ISO 8601 instant; default now')
  asOf?: string;

  @OptionalText(60, 'only accounts of this category (totals still cover every account)')
  category?: string;

  @OptionalUuid('only accounts of this program')
  programId?: string;
}

export class BalanceAsOfQuery {
  @OptionalTimeBound('YYYY-MM-DD (end of that day, service time zone) or an ISO 8601 instant; default now')
  asOf?: string;
}

export class StatementQuery extends IntersectionType(ListQuery, CsvFormatQuery) {
  @OptionalTimeBound('YYYY-MM-DD or ISO instant (inclusive)')
  from?: string;

  @OptionalTimeBound('YYYY-MM-DD (whole day included) or ISO instant (inclusive); default now')
  to?: string;
}

export const AUDIT_EVENT_KINDS = ['request', 'login', 'login_failed'] as const;

export class AuditEventsQuery extends ListQuery {
  @OptionalText(200, 'username, merchant:<id>, or the user/merchant id')
  actor?: string;

  @OptionalText(300, 'e.g. "POST /v1/programs/:id/appropriations" (a prefix also matches)')
  action?: string;

  @OptionalEnum(AUDIT_EVENT_KINDS)
  kind?: (typeof AUDIT_EVENT_KINDS)[number];

  @OptionalTimeBound()
  from?: string;

  @OptionalTimeBound('a date includes the whole day; an instant is included')
  to?: string;

  @ApiPropertyOptional({ description: 'success, failure, or an HTTP status' })
  @IsOptional()
  @Transform(emptyAsAbsent)
  @Matches(/^(success|failure|[1-5]\d\d)$/, { message: 'outcome must be success, failure or an HTTP status' })
  outcome?: string;
}

export class IndicatorsQuery extends CsvFormatQuery {
  @OptionalDate('business date the indicators are as of, cumulative from 1 January of its year; default today')
  asOf?: string;

  @ApiPropertyOptional({ example: '2016-Q2', description: 'cumulative from 1 January to the end of this quarter (P60); not with asOf' })
  @IsOptional()
  @Transform(emptyAsAbsent)
  @Matches(/^\d{4}-Q[1-4]$/, { message: 'quarter must be YYYY-Qn' })
  quarter?: string;
}

export class ExecutionQuery extends CsvFormatQuery {
  @OptionalDate('first day (default 1 January of the year of `to`)')
  from?: string;

  @OptionalDate('last day, included (default today)')
  to?: string;

  @OptionalEnum(EXECUTION_DIMENSIONS, 'rows by month (default), component (stage, envelope, insurer) or zone (alcaldía, or comuna in Cali)')
  by?: ExecutionDimension;
}
