import { ValidationError } from '../../domain/index.js';

/** An error from a model operation, as the form shows it: the field it belongs to, and words. */
export interface FieldError {
  /** The attribute or relation the error concerns; undefined for the form as a whole. */
  readonly field: string | undefined;
  readonly message: string;
}

/**
 * Turns what a model operation threw into a message for a person. A `ValidationError` names its
 * attribute, so the form can show the message next to that field; its text loses the
 * `Concept.attribute: rule:` prefix, which the field's label already says.
 */
export function fieldErrorOf(error: unknown): FieldError {
  if (error instanceof ValidationError) return { field: error.attribute, message: sentence(detailOf(error)) };
  return { field: undefined, message: sentence(error instanceof Error ? error.message : String(error)) };
}

function detailOf(error: ValidationError): string {
  // An empty text field breaks a minimum length of 1: to a person that is a missing value.
  if (error.rule === 'min' && /: 0 characters is below/.test(error.message)) return 'a value is required';
  const marker = `: ${error.rule}: `;
  const at = error.message.indexOf(marker);
  return at < 0 ? error.message : error.message.slice(at + marker.length);
}

function sentence(text: string): string {
  const trimmed = text.trim();
  if (!trimmed) return 'Something went wrong.';
  const capital = trimmed[0]!.toUpperCase() + trimmed.slice(1);
  return /[.!?)]$/.test(capital) ? capital : `${capital}.`;
}
