import { applyDecorators, ValidationError, ValidationPipe } from '@nestjs/common';
import { Matches, MaxLength, registerDecorator, ValidationOptions } from 'class-validator';
import { isMoneyString, isPositiveMoneyString } from './money';
import { ApiProblem, problems } from './problem';

export const MONEY_CONSTRAINT = 'isMoneyAmount';

/**
 * A date field of a request body written YYYY-MM-DD (a business date; services check that the day
 * exists where it matters). Bounded to 10 characters, which OpenAPI documents.
 */
export function IsIsoDate(): PropertyDecorator {
  return applyDecorators(MaxLength(10), Matches(/^\d{4}-\d{2}-\d{2}$/, { message: ({ property }) => `${property} must be YYYY-MM-DD` }));
}

/**
 * A money field: a JSON string with at most two decimals, no sign and no exponent
 * (API.md "Conventions"). `positive` (the default) also refuses zero.
 * Failing it yields 400 `invalid_amount` rather than the generic `validation_failed`.
 */
export function IsMoneyAmount(options: { positive?: boolean } & ValidationOptions = {}): PropertyDecorator {
  const positive = options.positive ?? true;
  return (target: object, propertyName: string | symbol) =>
    registerDecorator({
      name: MONEY_CONSTRAINT,
      target: target.constructor,
      propertyName: propertyName as string,
      options: {
        message: `${String(propertyName)} must be a string with at most two decimals${positive ? ', greater than zero' : ''} (e.g. "1075.20")`,
        ...options,
      },
      validator: { validate: (value: unknown) => (positive ? isPositiveMoneyString(value) : isMoneyString(value)) },
    });
}

interface FieldError {
  field: string;
  messages: string[];
}

function flatten(errors: ValidationError[], parent = ''): Array<FieldError & { constraints: string[] }> {
  return errors.flatMap((e) => {
    const field = parent ? `${parent}.${e.property}` : e.property;
    const own = e.constraints
      ? [{ field, messages: Object.values(e.constraints), constraints: Object.keys(e.constraints) }]
      : [];
    return [...own, ...flatten(e.children ?? [], field)];
  });
}

export function validationProblem(errors: ValidationError[]): ApiProblem {
  const flat = flatten(errors);
  const moneyError = flat.find((f) => f.constraints.includes(MONEY_CONSTRAINT));
  if (moneyError) return problems.invalidAmount(moneyError.messages.join('; '));
  const list = flat.map(({ field, messages }) => ({ field, messages }));
  const detail = list.map((f) => `${f.field}: ${f.messages.join(', ')}`).join('; ') || 'The request is not valid';
  return problems.validation(detail, list);
}

/** Unknown fields are rejected, types are never coerced (a number is not a money string). */
export function createValidationPipe(): ValidationPipe {
  return new ValidationPipe({
    whitelist: true,
    forbidNonWhitelisted: true,
    forbidUnknownValues: true,
    transform: true,
    transformOptions: { enableImplicitConversion: false },
    validationError: { target: false, value: false },
    exceptionFactory: (errors) => validationProblem(errors),
  });
}
