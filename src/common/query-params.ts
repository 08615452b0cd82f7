import { applyDecorators } from '@nestjs/common';
import { ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsIn, IsOptional, IsString, IsUUID, MaxLength, ValidateBy, ValidationOptions } from 'class-validator';
import { isDate, isTimeBound } from './calendar';
import { emptyAsAbsent } from './pagination';

/**
 * Decorators for query DTOs: every query parameter of the API is validated by class-validator
 * (400 `validation_failed` naming the parameter), never by hand in a controller. An empty value
 * (`?status=`) counts as absent.
 */

/** An optional UUID. */
export function OptionalUuid(description?: string): PropertyDecorator {
  return applyDecorators(
    ApiPropertyOptional({ format: 'uuid', description }),
    IsOptional(),
    Transform(emptyAsAbsent),
    IsUUID('all', { message: ({ property }) => `${property} must be a UUID` }),
  );
}

/** An optional value from a fixed list. */
export function OptionalEnum(values: readonly string[], description?: string): PropertyDecorator {
  return applyDecorators(
    ApiPropertyOptional({ enum: values, description }),
    IsOptional(),
    Transform(emptyAsAbsent),
    IsIn(values as string[], { message: ({ property }) => `${property} must be one of ${values.join(', ')}` }),
  );
}

/** An optional free text (a filter), at most `max` characters. */
export function OptionalText(max: number, description?: string): PropertyDecorator {
  return applyDecorators(ApiPropertyOptional({ maxLength: max, description }), IsOptional(), Transform(emptyAsAbsent), IsString(), MaxLength(max));
}

function IsCalendarDate(options?: ValidationOptions): PropertyDecorator {
  return ValidateBy({ name: 'isCalendarDate', validator: { validate: (v) => isDate(v) } }, options);
}

function IsTimeBound(options?: ValidationOptions): PropertyDecorator {
  return ValidateBy({ name: 'isTimeBound', validator: { validate: (v) => isTimeBound(v) } }, options);
}

/** An optional business date YYYY-MM-DD naming a day that exists. */
export function OptionalDate(description?: string): PropertyDecorator {
  return applyDecorators(
    ApiPropertyOptional({ format: 'date', example: '2016-03-01', description }),
    IsOptional(),
    Transform(emptyAsAbsent),
    IsCalendarDate({ message: ({ property }) => `${property} must be a valid date (YYYY-MM-DD)` }),
  );
}

/** An optional time bound: a business date (YYYY-MM-DD) or an ISO 8601 instant with its zone. */
export function OptionalTimeBound(description?: string): PropertyDecorator {
  return applyDecorators(
    ApiPropertyOptional({ description: description ?? 'YYYY-MM-DD (a business date) or an ISO 8601 instant with a time zone' }),
    IsOptional(),
    Transform(emptyAsAbsent),
    IsTimeBound({ message: ({ property }) => `${property} must be a date (YYYY-MM-DD) or an ISO 8601 instant with a time zone` }),
  );
}

/** `?format=csv` (the alternative to `Accept: text/csv`) on report routes. */
export class CsvFormatQuery {
  @OptionalEnum(['csv', 'json'], 'csv: the same as Accept: text/csv')
  format?: 'csv' | 'json';
}
