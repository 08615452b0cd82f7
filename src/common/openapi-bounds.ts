import type { OpenAPIObject } from '@nestjs/swagger';
import type { SchemaObject } from '@nestjs/swagger/dist/interfaces/open-api-spec.interface';
import { getMetadataStorage } from 'class-validator';
import type { ValidationMetadata } from 'class-validator/types/metadata/ValidationMetadata';
import { MONEY_MAX_LENGTH, MONEY_PATTERN } from './money';
import { MONEY_CONSTRAINT } from './validation';

/**
 * Writes the bounds that the DTOs' class-validator decorators enforce into the published OpenAPI
 * schemas, so every string field's maximum length (and the money pattern) is documented from the
 * one place that enforces it instead of being repeated in each @ApiProperty.
 */
export function documentValidationBounds(document: OpenAPIObject): void {
  const schemas = document.components?.schemas ?? {};
  const storage = getMetadataStorage() as unknown as {
    validationMetadatas: Map<Function, ValidationMetadata[]>;
    getTargetValidationMetadatas(target: Function, schema: string, always: boolean, strictGroups: boolean): ValidationMetadata[];
  };
  for (const target of storage.validationMetadatas.keys()) {
    const schema = schemas[target.name] as SchemaObject | undefined;
    if (!schema?.properties) continue;
    for (const m of storage.getTargetValidationMetadatas(target, '', false, false)) {
      const property = schema.properties[m.propertyName] as SchemaObject | undefined;
      if (!property || '$ref' in property) continue;
      const field = m.each && property.items && !('$ref' in property.items) ? (property.items as SchemaObject) : property;
      const [first, second] = (m.constraints ?? []) as number[];
      switch (m.name) {
        case 'isLength':
          if (first > 0) field.minLength = first;
          if (second !== undefined) field.maxLength = second;
          break;
        case 'minLength':
          field.minLength = first;
          break;
        case 'maxLength':
          field.maxLength = first;
          break;
        case 'isUuid':
          field.format = 'uuid';
          field.maxLength = 36;
          break;
        case MONEY_CONSTRAINT:
          field.pattern = MONEY_PATTERN.source;
          field.maxLength = MONEY_MAX_LENGTH;
          break;
      }
    }
  }
}
